import type { LoggerService, LogLevel } from '@nestjs/common';
import type { Level } from 'pino';
import { getLogger } from './logger.js';

/** Nest's own start-up chatter ("dependencies initialized", "successfully started"): debug, not info. */
const FRAMEWORK = new Set(['NestFactory', 'InstanceLoader', 'NestMicroservice', 'NestApplication', 'RoutesResolver', 'RouterExplorer']);
const looksLikeStack = (s: unknown) => typeof s === 'string' && /\n\s+at /.test(s);

/**
 * Nest's LoggerService over the process's pino logger (libs/logging), so that Nest, the BullMQ
 * transport and the services log through one sink: stderr, redacted, text or JSON lines.
 *
 * Why not nestjs-pino: its releases that accept @nestjs 12 (5.x) require Node >= 22.12, and the
 * older ones do not accept @nestjs 12; it is also built around pino-http, which a BullMQ
 * microservice has no use for. This adapter is the part of it this project needs.
 *
 * Used two ways: given to Nest (`createMicroservice(..., { logger })`, which makes every
 * `new Logger(ctx)` of the process log here: the context arrives as the last argument), or as a
 * component's own logger (`new NestPinoLogger('BullMqServer')`). It looks the process logger up on
 * every call, so one made before `configureLogging` follows it.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly context?: string) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }
  /** Levels are pino's (VSVA_LOG_LEVEL); Nest's list is not used. */
  setLogLevels(_levels: LogLevel[]): void {}

  private write(level: Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    let context = this.context;
    // Nest's convention: the context is the last argument, a string; an error's stack comes before it
    const last = rest[rest.length - 1];
    if (typeof last === 'string' && !(level === 'error' && rest.length === 1 && looksLikeStack(last))) {
      context = rest.pop() as string;
    }
    let stack: string | undefined;
    // the service bundles (esbuild) rename classes that collide: Nest's `InstanceLoader.name` reads `_InstanceLoader`
    if (context) context = context.replace(/^_+/, '');
    if ((level === 'error' || level === 'fatal') && looksLikeStack(rest[0])) stack = rest.shift() as string;
    if (level === 'info' && context && FRAMEWORK.has(context)) level = 'debug';

    const log = getLogger(context ?? 'nest');
    if (!log.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    if (rest.length) fields.params = rest;
    if (message instanceof Error) {
      log[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'string') {
      if (stack) fields.err = { stack };
      log[level](fields, message);
    } else {
      log[level]({ ...fields, data: message }, typeof message === 'object' && message ? (message.constructor?.name ?? 'object') : String(message));
    }
  }
}
