import { configureLogging, type LogFormat } from './logger.js';
import { NestPinoLogger } from './nest-logger.js';
import { routeConsole, routeProcessWarnings } from './process-output.js';

/**
 * A service process's logging, set up first thing in its bootstrap: every record on stderr (what
 * starts it, startCluster or the supervisor, sends that to `<service>.log`) with `service` = the
 * component and its pid, text or JSON lines (VSVA_LOG_FORMAT), Redis credentials redacted.
 * `console.*`, Node's warnings and an error that would kill the process become records too, so a
 * JSON log holds nothing but JSON lines.
 * Returns the logger of the bootstrap itself.
 */
export function setupServiceLogging(service: string, format?: LogFormat): NestPinoLogger {
  const log = configureLogging({ service, format });
  routeConsole(log);
  routeProcessWarnings(log);
  process.on('uncaughtException', (err, origin) => {
    log.fatal({ err, origin }, `${service} stopped: ${err?.message ?? String(err)}`);
    process.exit(1);
  });
  return new NestPinoLogger('bootstrap');
}
