import { z } from 'zod';
import { isClusterUrl, parseClusterUrl } from './redis-url.js';

/**
 * Every environment variable vsva-sim reads, once: what it accepts, its default and what it does.
 * `loadConfig` (load.ts) parses the environment with these schemas and nothing else reads it; the
 * README's configuration table is generated from `doc` and `defaultText` (a test holds them equal).
 */
export interface Variable<T, Out = T> {
  /** where the README lists it */
  group: Group;
  /** parses a set, non-blank value (a blank one counts as unset) */
  schema: z.ZodType<T>;
  default: Out;
  /** the default as the README says it (computed defaults say how) */
  defaultText: string;
  /** completes "must be ..." in the error */
  accepts: string;
  doc: string;
  /** never echoed in an error: it may hold a password */
  secret?: boolean;
}

export const GROUPS = ['Redis and namespace', 'Services', 'Logs', 'Scenario limits', 'Bench'] as const;
export type Group = (typeof GROUPS)[number];

/** What a service connects to when neither Redis variable is set (the CLI starts a private redis-server instead). */
export const LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';

export const REDIS_FSYNC = ['always', 'everysec'] as const;
export type RedisFsync = (typeof REDIS_FSYNC)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** a server's URL, or a Redis Cluster's seed nodes (redis-url.ts) */
const redisUrl = z.union([
  z.url({ protocol: /^rediss?$/ }),
  z.string().refine((u) => {
    if (!isClusterUrl(u)) return false;
    try {
      return parseClusterUrl(u).nodes.length > 0;
    } catch {
      return false;
    }
  }),
]);
const REDIS_URL_ACCEPTS = 'a redis:// or rediss:// URL (redis://[user:password@]host:port[/db]), or a Redis Cluster\'s seed nodes (redis+cluster://[user:password@]host:port[,host:port…], rediss+cluster:// for TLS)';
/** a key and queue prefix: it also names the keys a cleanup deletes (`<prefix>:*`), so no ':' and no hash-tag braces */
const prefix = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
const PREFIX_ACCEPTS = "letters, digits, '.', '_' and '-', starting with a letter or digit";
const intAtLeast = (min: number) => z.string().trim().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(Number.MAX_SAFE_INTEGER));
const lowerEnum = <T extends readonly [string, ...string[]]>(values: T) => z.string().trim().toLowerCase().pipe(z.enum(values));

const required = <T>(v: Omit<Variable<T>, 'defaultText'> & { defaultText?: string }): Variable<T> => ({ ...v, defaultText: v.defaultText ?? String(v.default) });
const optional = <T>(v: Omit<Variable<T, undefined>, 'default'>): Variable<T, undefined> => ({ ...v, default: undefined });
const int = (group: Group, min: number, dflt: number, doc: string) =>
  required({ group, schema: intAtLeast(min), default: dflt, accepts: min === 1 ? 'a positive integer' : `an integer >= ${min}`, doc });
const limit = (dflt: number, doc: string) => int('Scenario limits', 1, dflt, doc);

export const VARIABLES = {
  REDIS_URL: optional({
    group: 'Redis and namespace', schema: redisUrl, secret: true,
    accepts: REDIS_URL_ACCEPTS,
    defaultText: `none: the CLI starts a private \`redis-server\`; a service connects to \`${LOCAL_REDIS_URL}\``,
    doc: 'The Redis of the cluster, the bench and the tests. `rediss://` for TLS; `redis+cluster://h1:7000,h2:7001` for a Redis Cluster (README: Redis Cluster).',
  }),
  VSVA_REDIS_URL: optional({
    group: 'Redis and namespace', schema: redisUrl, secret: true,
    accepts: REDIS_URL_ACCEPTS,
    defaultText: 'REDIS_URL',
    doc: 'As `REDIS_URL`, and wins over it: what the CLI sets for the services and the supervisor it starts (compose sets it too).',
  }),
  VSVA_PREFIX: required({
    group: 'Redis and namespace', schema: prefix, default: 'vsva', accepts: PREFIX_ACCEPTS,
    doc: 'The namespace: the prefix of every key and queue. One set of consumers per Redis and prefix; clusters side by side use their own.',
  }),
  VSVA_REDIS_FSYNC: required({
    group: 'Redis and namespace', schema: lowerEnum(REDIS_FSYNC), default: 'always' as RedisFsync, accepts: REDIS_FSYNC.join(' or '),
    doc: "`appendfsync` of the redis-server the CLI starts (`up`, `run`, `chaos`): `always` fsyncs every write before it answers, so nothing acknowledged is lost even when the machine dies; `everysec` is faster (BENCHMARKS.md) and loses nothing acknowledged when Redis is killed while its once-a-second fsync keeps up (a write waiting behind a slow fsync, up to 2 s, is answered before it reaches the kernel: INFO's `aof_delayed_fsync` counts them), and up to a second or two when the machine dies. A Redis of your own (`REDIS_URL`) keeps its own setting.",
  }),
  VSVA_STATE_DIR: optional({
    group: 'Redis and namespace', schema: z.string(), accepts: 'a folder',
    defaultText: '`.vsva` in the current folder',
    doc: "Where the CLI keeps `cluster.json` (what `up` started), `logs/`, `runs/` (every cluster run's export) and a private redis-server's data.",
  }),

  VSVA_LEASE_MS: int('Services', 300, 6000, "A service process's leases (its replica slot, its heartbeat, and each partition it consumes), renewed every third of it: a process silent this long counts as down and its partitions are taken over."),
  VSVA_PARTITIONS: required({
    group: 'Services', schema: intAtLeast(1).pipe(z.number().max(64)), default: 4, accepts: 'an integer from 1 to 64',
    doc: "How many partitions each service's data queue has: a run's inputs all go to one (by its id), and each partition is consumed by one replica at a time, so this bounds how many replicas of a service share the work. Fixed for a namespace by its first service (`<prefix>:layout`); a service configured otherwise refuses to start.",
  }),
  VSVA_REPLICAS: required({
    group: 'Services', schema: intAtLeast(1).pipe(z.number().max(16)), default: 1, accepts: 'an integer from 1 to 16',
    doc: 'Processes per service that `vsva-sim up` starts (its `--replicas` wins) and that the compose file runs; they share out the partitions of the service\'s data queue.',
  }),
  VSVA_LOCK_MS: int('Services', 100, 5000, "BullMQ's job lock (BullMQ's own default: 30000). A job of a dead service comes back within about this plus `VSVA_STALLED_MS`; it must exceed the longest event-loop stall of a live service."),
  VSVA_STALLED_MS: int('Services', 50, 2000, "How often BullMQ looks for stalled jobs (BullMQ's own default: 30000)."),
  VSVA_MAX_STALLED: int('Services', 1, 1000, 'How often a job may stall (its service died with it) before BullMQ fails it: high, so that a crash never loses an input, but bounded, so that a job that kills its service every time ends in the failed set instead of crash-looping.'),
  // Counted in entries because a rebuild reads every entry after the snapshot, all components', and that
  // read is most of its cost. Measured on a 100,000-entry log (test/recovery/snapshot.test.ts): rebuild
  // ~0.45-0.9 s without a snapshot, ~10-30 ms from one 2000 entries old (~45-100 ms at 10,000, ~3-30 ms
  // at 500). The largest state, the orchestrator's (~0.5-0.9 MB for a 4,000-step run), takes ~7-17 ms to
  // write, once per 2000 entries: under 1% of the 3-5 s a run takes to record them in the cluster. 500
  // would write four times as often to save ~10 ms per restart; 10,000 would add ~50 ms to every restart,
  // whose own floor is the process start (~0.7 s) and the lock.
  VSVA_SNAPSHOT_EVERY: int('Services', 0, 2000, "A component snapshots its state in a run once the run's log has grown by this many entries since its last snapshot (0: never), so that a restarted service rebuilds from the snapshot, not from the run's start."),
  VSVA_EXIT_WITH_PARENT: required({
    group: 'Services', schema: z.enum(['0', '1']).transform((v) => v === '1'), default: false, defaultText: '0', accepts: '0 or 1',
    doc: 'Set to 1 by whatever starts a service and stops it later (a `run`, the supervisor, the bench, the tests): the service stops when the process that started it is gone, so nothing is orphaned.',
  }),

  VSVA_LOG_FORMAT: required({
    group: 'Logs', schema: lowerEnum(LOG_FORMATS), default: 'text' as LogFormat, accepts: 'text or json',
    doc: 'Logs as text lines (coloured only on a terminal, never with `NO_COLOR`) or JSON lines; the CLI\'s `--log-format` sets it, and the services it starts inherit it.',
  }),
  VSVA_LOG_LEVEL: required({
    group: 'Logs', schema: lowerEnum(LOG_LEVELS), default: 'info' as LogLevel, accepts: LOG_LEVELS.join(', '),
    doc: 'The least severe level written: trace, debug, info, warn, error, fatal or silent (none).',
  }),
  VSVA_SERVICE: required({
    group: 'Logs', schema: z.string().trim(), default: 'vsva-sim', accepts: 'a name',
    doc: 'The `service` field of the log records of a process that does not name itself (a service names itself after its component).',
  }),

  VSVA_MAX_SCENARIO_BYTES: limit(8 * 1024 * 1024, 'Bytes of a scenario file (8 MiB).'),
  // the bench's generator at its largest (4096 VMs, one round): 28,673 steps, 45,057 planned
  VSVA_MAX_STEPS: limit(30_000, 'Entries of a scenario\'s `steps`.'),
  VSVA_MAX_VMS: limit(4096, 'Entries of a scenario\'s `vms`.'),
  VSVA_MAX_MDEVS: limit(4096, 'Mdevs over all the VMs of a scenario.'),
  VSVA_MAX_PARENTS: limit(4096, 'Entries of a scenario\'s `parents`.'),
  VSVA_MAX_WORKLOAD_OPS: limit(40_000, 'Ops a scenario\'s workload expands to (the sum of its `count`).'),
  VSVA_MAX_PLANNED_STEPS: limit(50_000, 'A run\'s planned steps: setup (mdev creation, container, groups) + steps + workload ops.'),
  VSVA_MAX_YAML_ALIASES: limit(100, 'YAML alias expansion of a scenario file (the `yaml` package\'s `maxAliasCount`).'),
  VSVA_MAX_YAML_DEPTH: limit(64, 'Nesting depth of YAML collections in a scenario file (a scenario needs 6).'),

  VSVA_BENCH_PREFIX: optional({
    group: 'Bench', schema: prefix, accepts: PREFIX_ACCEPTS,
    defaultText: '`vsvabench-<pid>-<random>`',
    doc: "The bench's key prefix, never a cluster's: every key under it is deleted when the bench ends.",
  }),
};

export type VariableName = keyof typeof VARIABLES;
export const VARIABLE_NAMES = Object.keys(VARIABLES) as VariableName[];
/** Each variable's value once parsed, its default applied. */
export type Values = { [K in VariableName]: (typeof VARIABLES)[K]['default'] | z.output<(typeof VARIABLES)[K]['schema']> };
