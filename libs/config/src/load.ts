import { resolve } from 'node:path';
import { z } from 'zod';
import { VARIABLE_NAMES, VARIABLES, type LogFormat, type LogLevel, type RedisFsync, type VariableName, type Values } from './variables.js';

/** How large a scenario may be (libs/scenario checks it): each bound from its `VSVA_MAX_*` variable. */
export interface ScenarioLimits {
  /** bytes of the scenario file */
  bytes: number;
  /** entries of `steps` */
  steps: number;
  /** entries of `vms` */
  vms: number;
  /** mdevs over all VMs */
  mdevs: number;
  /** entries of `parents` */
  parents: number;
  /** ops the workload expands to: the sum of its entries' `count` */
  workloadOps: number;
  /** the run's planned steps: setup (mdev creation, container, groups) + steps + workload ops */
  plannedSteps: number;
  /** YAML alias expansion (the `yaml` package's maxAliasCount: uses x the aliases each one holds) */
  yamlAliases: number;
  /** nesting depth of YAML collections */
  yamlDepth: number;
}

/** The variable that sets each limit. */
export const LIMIT_ENV = Object.freeze({
  bytes: 'VSVA_MAX_SCENARIO_BYTES',
  steps: 'VSVA_MAX_STEPS',
  vms: 'VSVA_MAX_VMS',
  mdevs: 'VSVA_MAX_MDEVS',
  parents: 'VSVA_MAX_PARENTS',
  workloadOps: 'VSVA_MAX_WORKLOAD_OPS',
  plannedSteps: 'VSVA_MAX_PLANNED_STEPS',
  yamlAliases: 'VSVA_MAX_YAML_ALIASES',
  yamlDepth: 'VSVA_MAX_YAML_DEPTH',
} as const satisfies Record<keyof ScenarioLimits, VariableName>);

/** The process's configuration: every variable of variables.ts, parsed and checked, defaults applied. */
export interface Config {
  /** VSVA_REDIS_URL, else REDIS_URL; undefined when neither is set */
  readonly redisUrl: string | undefined;
  readonly prefix: string;
  /** appendfsync of a redis-server the CLI starts */
  readonly redisFsync: RedisFsync;
  /** absolute */
  readonly stateDir: string;
  readonly leaseMs: number;
  /** data-queue partitions per service (the namespace's layout) */
  readonly partitions: number;
  /** processes per service `up` starts */
  readonly replicas: number;
  readonly lockMs: number;
  readonly stalledMs: number;
  readonly maxStalled: number;
  readonly snapshotEvery: number;
  readonly exitWithParent: boolean;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
  readonly service: string;
  /** undefined: the bench makes one of its own */
  readonly benchPrefix: string | undefined;
  readonly limits: Readonly<ScenarioLimits>;
}

/** Variables with values they do not accept: exit 2 from the CLI. One line, every bad variable named. */
export class ConfigError extends Error {
  constructor(readonly problems: ReadonlyArray<{ variable: VariableName; message: string }>) {
    super(problems.map((p) => p.message).join('; '));
  }
}

/** A blank value counts as unset (`REDIS_URL= vsva-sim run ...` means "no Redis"). */
const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const SCHEMA = z.object(Object.fromEntries(VARIABLE_NAMES.map((n) => [n, z.preprocess(blank, VARIABLES[n].schema.optional())])));

let cached: { key: string; config: Config } | undefined;

/**
 * Parses the environment once (the same values give the same frozen object, so calling it again is
 * cheap); throws ConfigError naming every variable whose value is not accepted, and what is.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const key = `${process.cwd()}\0${VARIABLE_NAMES.map((n) => env[n] ?? '').join('\0')}`;
  if (cached?.key === key) return cached.config;
  const parsed = SCHEMA.safeParse(Object.fromEntries(VARIABLE_NAMES.map((n) => [n, env[n]])));
  if (!parsed.success) {
    const bad = [...new Set(parsed.error.issues.map((i) => i.path[0] as VariableName))];
    throw new ConfigError(bad.map((n) => ({ variable: n, message: problem(n, env[n] ?? '') })));
  }
  const values = Object.fromEntries(VARIABLE_NAMES.map((n) => [n, parsed.data[n] ?? VARIABLES[n].default])) as Values;
  const config = toConfig(values);
  cached = { key, config };
  return config;
}

function problem(n: VariableName, raw: string): string {
  const v = VARIABLES[n];
  const got = 'secret' in v && v.secret ? 'got a value that is not (not shown: it may hold a password)' : `got '${raw}'`;
  return `${n} must be ${v.accepts}, ${got} (default: ${v.defaultText})`;
}

function toConfig(v: Values): Config {
  const limits = Object.freeze(Object.fromEntries(Object.entries(LIMIT_ENV).map(([k, n]) => [k, v[n]])) as unknown as ScenarioLimits);
  return Object.freeze({
    // the one place the two Redis variables meet: the one the CLI hands its children wins
    redisUrl: v.VSVA_REDIS_URL ?? v.REDIS_URL,
    prefix: v.VSVA_PREFIX,
    redisFsync: v.VSVA_REDIS_FSYNC,
    stateDir: resolve(v.VSVA_STATE_DIR ?? '.vsva'),
    leaseMs: v.VSVA_LEASE_MS,
    partitions: v.VSVA_PARTITIONS,
    replicas: v.VSVA_REPLICAS,
    lockMs: v.VSVA_LOCK_MS,
    stalledMs: v.VSVA_STALLED_MS,
    maxStalled: v.VSVA_MAX_STALLED,
    snapshotEvery: v.VSVA_SNAPSHOT_EVERY,
    exitWithParent: v.VSVA_EXIT_WITH_PARENT,
    logFormat: v.VSVA_LOG_FORMAT,
    logLevel: v.VSVA_LOG_LEVEL,
    service: v.VSVA_SERVICE,
    benchPrefix: v.VSVA_BENCH_PREFIX,
    limits,
  });
}

/** Every default, as an environment without any variable gives them. */
export const DEFAULTS: Config = loadConfig({});

/**
 * Every Redis URL the environment names, as written and unchecked, for redaction: the variable that
 * lost to the other still holds a password that must never be printed. Never throws.
 */
export function redisUrlsIn(env: NodeJS.ProcessEnv = process.env): string[] {
  return (['VSVA_REDIS_URL', 'REDIS_URL'] as const).map((n) => env[n]).filter((u): u is string => !!u && u.trim() !== '');
}
