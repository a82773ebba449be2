import { format } from 'node:util';
import type { Logger } from 'pino';

/**
 * Whatever a dependency prints with `console.*` becomes a log record (stderr, redacted, the chosen
 * format) instead of reaching stdout, which carries only a command's result. Returns the undo.
 */
export function routeConsole(log: Logger): () => void {
  const saved = { log: console.log, info: console.info, debug: console.debug, warn: console.warn, error: console.error, trace: console.trace };
  console.log = (...a: unknown[]) => log.info(format(...a));
  console.info = (...a: unknown[]) => log.info(format(...a));
  console.debug = (...a: unknown[]) => log.debug(format(...a));
  console.warn = (...a: unknown[]) => log.warn(format(...a));
  console.error = (...a: unknown[]) => log.error(format(...a));
  console.trace = (...a: unknown[]) => log.debug({ err: { stack: new Error().stack } }, format(...a));
  return () => Object.assign(console, saved);
}

/**
 * Node's process warnings (deprecations, MaxListeners, ...) as log records rather than Node's own
 * `(node:pid) Warning:` text on stderr, so a JSON log stays one JSON object per line.
 */
export function routeProcessWarnings(log: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (w: Error) => log.warn({ err: w, warning: w.name }, w.message));
}
