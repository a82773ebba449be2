import { existsSync } from 'node:fs';
import type { LogEntry } from '../../../../libs/contracts/src/index.js';
import type { RedisRunLog } from '../../../../libs/event-log/src/index.js';
import { keptRunFile, knownClusters } from '../cluster-state.js';
import { infra, usage } from '../errors.js';
import { requireRedis } from '../redis-probe.js';

/** A recorded run, from an exported file or from Redis: `replay`, `diff` and `export` read through it. */
export interface RunSource {
  label: string;
  runId: string;
  pages(): AsyncIterable<LogEntry[]>;
  all(): Promise<LogEntry[]>;
  close(): Promise<void>;
}

/** The Redis a run id is looked up in: the cluster `vsva-sim up` started, else REDIS_URL. */
export async function openClusterLog(): Promise<{ log: RedisRunLog; url: string; prefix: string }> {
  const known = knownClusters()[0];
  if (!known) throw infra('no Redis to look the run up in: start a cluster (vsva-sim up), set REDIS_URL, or pass an exported .ndjson file');
  const { RedisRunLog } = await import('../../../../libs/event-log/src/index.js');
  const { redisUrl: url, prefix } = known;
  await requireRedis(url, 3000);
  return { log: RedisRunLog.fromUrl(url, { prefix }), url, prefix };
}

export async function openRunSource(arg: string): Promise<RunSource> {
  const ev = await import('../../../../libs/event-log/src/index.js');
  if (arg.endsWith('.ndjson') || existsSync(arg)) {
    if (!existsSync(arg)) throw usage(`${arg}: no such file`);
    const reader = await ev.openNdjson(arg).catch((e: Error) => {
      throw e instanceof ev.NdjsonError ? usage(e.message) : e;
    });
    return {
      label: arg,
      runId: reader.header.runId,
      pages: () => wrapPages(reader.pages, ev.NdjsonError),
      all: async () => (await ev.readNdjson(arg).catch((e: Error) => { throw e instanceof ev.NdjsonError ? usage(e.message) : e; })).entries,
      close: async () => {},
    };
  }
  // every cluster run was exported when it ended: its id replays without its Redis (a private one is gone)
  const kept = keptRunFile(arg);
  if (/^[\w.-]+$/.test(arg) && existsSync(kept)) {
    process.stderr.write(`${arg}: read from ${kept}\n`);
    return openRunSource(kept);
  }
  const { log } = await openClusterLog();
  if (!(await log.getRunMeta(arg)) && (await log.length(arg)) === 0) {
    await log.close();
    throw usage(`no run '${arg}' in Redis (vsva-sim status shows where it looks); pass a run id from a report, or an exported .ndjson file`);
  }
  return { label: arg, runId: arg, pages: () => log.readPages(arg), all: () => log.read(arg), close: () => log.close() };
}

/** Turns a malformed line met while streaming into a usage error (exit 2). */
async function* wrapPages(pages: AsyncIterable<LogEntry[]>, Err: new (...a: never[]) => Error): AsyncIterable<LogEntry[]> {
  try {
    yield* pages;
  } catch (e) {
    throw e instanceof Err ? usage((e as Error).message) : e;
  }
}
