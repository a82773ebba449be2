import { pino, type DestinationStream, type Logger } from 'pino';
import { loadConfig, type LogFormat } from '../../config/src/index.js';
import { redactSecrets, redactText } from '../../redis/src/index.js';
import { formatTextLine } from './text-format.js';

export type { Logger } from 'pino';

/** `text`: one human line per record (coloured only on a terminal); `json`: one JSON object per line. */
export { LOG_FORMATS, type LogFormat } from '../../config/src/index.js';

export interface LoggingOptions {
  /** the process: a service's component (`host-vtd`), or `cli` */
  service: string;
  /** default: VSVA_LOG_FORMAT, else text */
  format?: LogFormat;
  /** pino level; default: VSVA_LOG_LEVEL, else info */
  level?: string;
  /** where lines go; default stderr (stdout carries only a command's result) */
  stream?: NodeJS.WritableStream;
  /** ANSI colours in the text format; default: only when `stream` is a terminal and NO_COLOR is unset */
  colors?: boolean;
}

export function colorsAllowed(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return (stream as NodeJS.WriteStream).isTTY === true;
}

/**
 * The sink under pino: every line passes through `redactText` (credentials of a Redis URL, whatever
 * field or stack they hide in), then is written as JSON or as a text line. Synchronous (stderr to a
 * file or a pipe is), so nothing is lost when a process exits right after logging.
 */
function sink(format: LogFormat, out: NodeJS.WritableStream, colors: boolean): DestinationStream {
  return {
    write(line: string) {
      const clean = redactSecrets(line);
      if (format === 'json') {
        out.write(clean);
        return;
      }
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(clean) as Record<string, unknown>;
      } catch {
        out.write(clean);
        return;
      }
      out.write(`${formatTextLine(record, colors)}\n`);
    },
  };
}

/**
 * A pino logger for one process. Each record carries `level` (a name), `time` (ISO 8601), `service`,
 * `pid` and `msg`; children add `component`. Message strings are redacted before formatting and the
 * whole line again at the sink.
 */
export function createLogger(o: LoggingOptions): Logger {
  const out = o.stream ?? process.stderr;
  const format = o.format ?? loadConfig().logFormat;
  return pino(
    {
      level: o.level ?? loadConfig().logLevel,
      base: { service: o.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError },
      hooks: {
        logMethod(args, method) {
          const clean = args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as typeof args;
          method.apply(this, clean);
        },
      },
    },
    sink(format, out, o.colors ?? colorsAllowed(out)),
  );
}

/** A failed AUTH (`AUTH`, or `HELLO 3 AUTH user pass`) as ioredis reports it: its arguments are the credentials. */
const isAuthCommand = (c: { name?: unknown; args?: unknown }) =>
  /^(auth|hello)$/i.test(String(c.name)) && Array.isArray(c.args) && (String(c.name).toLowerCase() === 'auth' || c.args.some((a) => /^auth$/i.test(String(a))));

/** pino's error serializer, without the arguments of an ioredis AUTH command (they hold the password in clear). */
function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  const command = out?.command as { name?: unknown; args?: unknown } | undefined;
  if (command && typeof command === 'object' && isAuthCommand(command)) out.command = { ...command, args: ['***'] };
  return out;
}

let root: Logger | undefined;

/**
 * Sets the logger of this process (a service at bootstrap, the CLI when it parses `--log-format`).
 * Loggers taken with `getLogger` before this follow it: they look the root up on every call.
 */
export function configureLogging(o: LoggingOptions): Logger {
  root = createLogger(o);
  return root;
}

/** The process's logger; until `configureLogging`, one named after the script, from the environment. */
export function rootLogger(): Logger {
  root ??= createLogger({ service: loadConfig().service });
  return root;
}

const children = new WeakMap<Logger, Map<string, Logger>>();

/** A child of the process's logger for one component (`BullMqServer`, `ComponentHost`, ...). */
export function getLogger(component: string): Logger {
  const r = rootLogger();
  let byName = children.get(r);
  if (!byName) children.set(r, (byName = new Map()));
  let child = byName.get(component);
  if (!child) byName.set(component, (child = r.child({ component })));
  return child;
}
