export { configureLogging, createLogger, getLogger, rootLogger, logFormatFromEnv, colorsAllowed, LOG_FORMATS } from './logger.js';
export type { LogFormat, Logger, LoggingOptions } from './logger.js';
export { NestPinoLogger } from './nest-logger.js';
export { routeConsole, routeProcessWarnings } from './process-output.js';
export { setupServiceLogging } from './service.js';
export { formatTextLine } from './text-format.js';
export { redactText, redactUrl } from '../../redis/src/redact.js';
