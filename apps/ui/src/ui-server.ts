import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { RedisRunLog } from '../../../libs/event-log/src/index.js';
import { NestPinoLogger } from '../../../libs/logging/src/index.js';
import { boundedRedisOptions, redactUrl } from '../../../libs/redis/src/index.js';
import { mountQueues } from './queues.js';
import { RunCatalog } from './run-catalog.js';
import { UiModule } from './ui.module.js';

export interface UiOptions {
  host: string;
  port: number;
  /** the cluster's Redis (its runs and its queues); absent: exported files only */
  redis?: { url: string; prefix: string };
  /** folders of exported runs (.ndjson), and single files */
  runs: string[];
}

export interface RunningUi {
  url: string;
  close(): Promise<void>;
}

/** The port is taken: the CLI says so and exits 3. */
export class PortInUseError extends Error {
  constructor(readonly host: string, readonly port: number) {
    super(`${host}:${port} is already in use: stop what listens there, or pass --port`);
  }
}

/** The built client scripts (scripts/bundle.js writes them to dist/ui), found from here in dist/ or in the sources. */
export function assetsDir(): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return join(d, 'dist', 'ui');
  }
  throw new Error('vsva-sim ui: cannot find the project folder (package.json) above the dashboard');
}

/**
 * Pages carry run data only as escaped text; this header is the second wall: no inline script runs and
 * nothing loads from elsewhere. bull-board's pages (/queues) bring their own scripts and styles.
 */
function contentSecurity(req: Request, res: Response, next: NextFunction): void {
  if (!req.path.startsWith('/queues')) {
    res.setHeader('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
  }
  res.setHeader('x-content-type-options', 'nosniff');
  next();
}

/** Starts the dashboard: a NestJS HTTP app on `host:port`. */
export async function startUi(o: UiOptions): Promise<RunningUi> {
  const assets = assetsDir();
  if (!existsSync(join(assets, 'run-page.js'))) throw new Error(`vsva-sim ui: ${join(assets, 'run-page.js')} is missing: run 'npm run build' in the vsva-sim folder`);
  const log = o.redis ? RedisRunLog.fromUrl(o.redis.url, { prefix: o.redis.prefix, redis: boundedRedisOptions() }) : undefined;
  const catalog = new RunCatalog(log, o.runs);
  const sources = [o.redis ? `Redis ${redactUrl(o.redis.url)} (prefix ${o.redis.prefix})` : 'no Redis', o.runs.length ? `exported runs in ${o.runs.join(', ')}` : 'no folder of exported runs'];
  const app = await NestFactory.create<NestExpressApplication>(UiModule.forRoot(catalog, { describe: `Reading runs from ${sources.join('; ')}.` }), { logger: new NestPinoLogger('ui'), abortOnError: false });
  app.disable('x-powered-by');
  app.use(contentSecurity);
  app.useStaticAssets(assets, { prefix: '/assets/', index: false });
  const queues = await mountQueues(app, o.redis);
  try {
    await app.listen(o.port, o.host);
  } catch (e) {
    await Promise.allSettled([app.close(), queues.close(), log?.close()]);
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(o.host, o.port);
    throw e;
  }
  const addr = app.getHttpServer().address() as { port: number };
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${addr.port}`,
    close: async () => {
      await app.close();
      await Promise.allSettled([queues.close(), log?.close()]);
    },
  };
}
