/**
 * Logging of every vsva-sim process (issue 8), over pino:
 * - records go to stderr (a service's stderr is its log file), never stdout: stdout carries only a
 *   command's result (`--json`);
 * - `VSVA_LOG_FORMAT=json` (the CLI's `--log-format json`, inherited by the services it starts): one
 *   JSON object per line with `level`, `time`, `service`, `pid`, `component`, `msg`; otherwise text
 *   lines, ANSI-coloured only on a terminal and never with NO_COLOR;
 * - `VSVA_LOG_LEVEL`: trace, debug, info (default), warn, error, fatal, silent;
 * - Redis credentials never reach a record: URLs are redacted (redactText), and so are the literal
 *   credentials of the process's Redis URLs and the arguments of an ioredis AUTH error.
 * Nest (createMicroservice's `logger`) and the BullMQ transport log through `NestPinoLogger`.
 */
export { configureLogging, createLogger, getLogger, rootLogger, colorsAllowed, LOG_FORMATS } from './logger.js';
export type { LogFormat, Logger, LoggingOptions } from './logger.js';
export { NestPinoLogger } from './nest-logger.js';
export { routeConsole, routeProcessWarnings } from './process-output.js';
export { setupServiceLogging } from './service.js';
export { formatTextLine } from './text-format.js';
export { redactText, redactUrl } from '../../redis/src/index.js';
