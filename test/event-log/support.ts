import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { resolvePolicy, type NewLogEntry } from '../../libs/contracts/src/index.js';
import type { RunMeta } from '../../libs/event-log/src/index.js';

/** A plausible log entry; `n` makes it distinct. */
export function entry(runId: string, n: number, extra: Partial<NewLogEntry> = {}): NewLogEntry {
  return {
    runId,
    eventId: `ev-${n}`,
    kind: n % 3 === 0 ? 'input' : n % 3 === 1 ? 'event' : 'command',
    type: n % 2 === 0 ? 'VFIO_IOMMU_PASID_REQUEST' : 'pasid.allocated',
    component: 'vfio-type1',
    ...(n % 3 === 2 ? { to: 'host-vtd' as const } : {}),
    causationId: n === 0 ? null : `ev-${n - 1}`,
    correlationId: `corr-${Math.floor(n / 10)}`,
    lamport: n,
    payload: { n, pasid: 100 + n, text: 'ünïcödé "quoted" \\ \n', nested: { list: [1, 2, { deep: null }] } },
    ...(n % 3 === 0 ? { stateHash: `h${n}` } : {}),
    schemaVersion: 1,
    ts: 1_700_000_000_000 + n,
    ...extra,
  };
}

export function entries(runId: string, from: number, count: number): NewLogEntry[] {
  return Array.from({ length: count }, (_, i) => entry(runId, from + i));
}

export function meta(runId: string, startedAt: number, status: RunMeta['status'] = 'running'): RunMeta {
  return {
    runId,
    scenario: { name: 'null-iommu-device-bind', file: 'scenarios/null-iommu-device-bind.yaml' },
    policy: resolvePolicy('v1', { 'vfio.pasid_quota': '8' }),
    seed: 42,
    engine: 'cluster',
    startedAt,
    status,
  };
}

/** Every key under a prefix (SCAN, not KEYS). */
export async function keysUnder(redis: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    out.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return out.sort();
}

export async function deleteUnder(redis: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(redis, `${prefix}*`);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
}

export function tempDir(): { dir: string; file(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vsva-eventlog-'));
  return { dir, file: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
