import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { Parser, parseDocument } from 'yaml';
import type { z } from 'zod';
import { limitsFromEnv, overLimit, plannedStepCount, workloadOpCount, type ScenarioLimits } from './limits.js';
import { ScenarioSchema, type Scenario } from './schema.js';

/** A scenario file that cannot be used; the CLI exits 2 with this message. */
export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly problems: Array<{ path: string; message: string }>,
  ) {
    super(`${file}: invalid scenario\n${problems.map((p) => `  at ${p.path || '(top level)'}: ${p.message}`).join('\n')}`);
  }
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

function issuesToProblems(issues: z.core.$ZodIssue[]) {
  return issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
}

/**
 * The deepest nesting of collections in the YAML text, from the parser's concrete syntax tree (built
 * without recursion) and walked with an explicit stack: the composer and toJS recurse once per level,
 * so a deep `[[[[…]]]]` must be refused before they see it.
 */
function yamlDepth(text: string, stopAt: number): number {
  let max = 0;
  const stack: Array<{ node: unknown; depth: number }> = [];
  for (const token of new Parser().parse(text)) stack.push({ node: token, depth: 0 });
  while (stack.length) {
    const { node, depth } = stack.pop()!;
    if (!node || typeof node !== 'object') continue;
    const t = node as { type?: string; value?: unknown; key?: unknown; items?: Array<{ key?: unknown; value?: unknown }> };
    if (t.type === 'document') {
      stack.push({ node: t.value, depth });
      continue;
    }
    if (!Array.isArray(t.items)) continue;
    const d = depth + 1;
    if (d > max) max = d;
    if (max > stopAt) return max;
    for (const it of t.items) {
      stack.push({ node: it.key, depth: d });
      stack.push({ node: it.value, depth: d });
    }
  }
  return max;
}

const count = (xs: unknown) => (Array.isArray(xs) ? xs.length : 0);

/** The limits that can be checked on the raw document, before the schema walks it. */
function rawLimitProblems(raw: Record<string, unknown>, limits: ScenarioLimits): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  const steps = count(raw.steps);
  if (steps > limits.steps) out.push({ path: 'steps', message: overLimit('steps', `${steps} steps`, limits) });
  const vms = count(raw.vms);
  if (vms > limits.vms) out.push({ path: 'vms', message: overLimit('vms', `${vms} VMs`, limits) });
  let mdevs = 0;
  if (Array.isArray(raw.vms)) for (const vm of raw.vms) mdevs += count((vm as { mdevs?: unknown } | null)?.mdevs);
  if (mdevs > limits.mdevs) out.push({ path: 'vms', message: overLimit('mdevs', `${mdevs} mdevs over all VMs`, limits) });
  const parents = count(raw.parents);
  if (parents > limits.parents) out.push({ path: 'parents', message: overLimit('parents', `${parents} parents`, limits) });
  // each workload entry is at least one op: a list longer than the limit is over it whatever the counts
  const workload = count(raw.workload);
  if (workload > limits.workloadOps) out.push({ path: 'workload', message: overLimit('workloadOps', `${workload} workload entries (at least one op each)`, limits) });
  return out;
}

/** The limits on what the scenario expands to: the workload's ops and the run's planned steps. */
function expansionProblems(sc: Scenario, limits: ScenarioLimits): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  const ops = workloadOpCount(sc);
  if (ops > limits.workloadOps) out.push({ path: 'workload', message: overLimit('workloadOps', `the workload expands to ${ops} ops (the sum of its count)`, limits) });
  const planned = plannedStepCount(sc);
  if (planned > limits.plannedSteps) {
    out.push({ path: '', message: overLimit('plannedSteps', `the run would plan ${planned} steps (setup ${planned - sc.steps.length - ops} + steps ${sc.steps.length} + workload ops ${ops})`, limits) });
  }
  return out;
}

/** What is over `limits` in a scenario already validated (as the bench generates them); empty when within. */
export function scenarioLimitProblems(sc: Scenario, limits: ScenarioLimits): Array<{ path: string; message: string }> {
  return [...rawLimitProblems(sc as unknown as Record<string, unknown>, limits), ...expansionProblems(sc, limits)];
}

/** Parses and validates scenario text; `file` names it in errors. */
export function parseScenario(text: string, file: string, limits: ScenarioLimits = limitsFromEnv()): Scenario {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.bytes) throw new ScenarioError(file, [{ path: '', message: overLimit('bytes', `${bytes} bytes`, limits) }]);
  const depth = yamlDepth(text, limits.yamlDepth);
  if (depth > limits.yamlDepth) {
    throw new ScenarioError(file, [{ path: '', message: `YAML: ${overLimit('yamlDepth', `collections nested more than ${limits.yamlDepth} deep`, limits)}` }]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ScenarioError(file, doc.errors.map((e) => ({ path: `line ${e.linePos?.[0].line ?? '?'}`, message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: limits.yamlAliases });
  } catch (e) {
    // the yaml package throws ReferenceError for an alias bomb ("Excessive alias count") and for an
    // alias to a missing anchor; both are the file's fault
    if (!(e instanceof ReferenceError)) throw e;
    const bomb = /excessive alias count/i.test(e.message);
    throw new ScenarioError(file, [{
      path: '',
      message: bomb
        ? `YAML: ${overLimit('yamlAliases', 'its aliases expand too much (a "billion laughs" document?)', limits)}`
        : `YAML: ${e.message}`,
    }]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScenarioError(file, [{ path: '', message: 'expected a mapping with name, description, parents, vms and steps' }]);
  }
  const tooBig = rawLimitProblems(raw as Record<string, unknown>, limits);
  if (tooBig.length) throw new ScenarioError(file, tooBig);
  const parsed = ScenarioSchema.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(file, issuesToProblems(parsed.error.issues));
  const expanded = expansionProblems(parsed.data, limits);
  if (expanded.length) throw new ScenarioError(file, expanded);
  return parsed.data;
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

/**
 * Reads at most `max` bytes of a regular file. The file is opened non-blocking (a FIFO would
 * otherwise wait for a writer forever) and fstat'ed before anything is read, so a FIFO, a device
 * like /dev/zero or a directory is refused; a file that grows past `max` while read is refused too.
 */
function readRegularFile(file: string, limits: ScenarioLimits): string {
  const fail = (message: string) => new ScenarioError(file, [{ path: '', message }]);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fail(`cannot read the file: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw fail(`not a regular file (${kindOf(st)}): a scenario is read from a regular file`);
    if (st.size > limits.bytes) throw fail(overLimit('bytes', `${st.size} bytes`, limits));
    // read to the end, never more than one byte past the limit (the file may have grown since fstat)
    const chunks: Buffer[] = [];
    let n = 0;
    while (n <= limits.bytes) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, limits.bytes + 1 - n));
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(chunk.subarray(0, got));
      n += got;
    }
    if (n > limits.bytes) throw fail(overLimit('bytes', `more than ${limits.bytes} bytes`, limits));
    return Buffer.concat(chunks, n).toString('utf8');
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    throw fail(`cannot read the file: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads a scenario file within `limits`: by default the environment's (VSVA_MAX_*), whose malformed
 * value throws libs/config's ConfigError (the CLI checks the environment first: exit 2).
 */
export function loadScenario(file: string, limits: ScenarioLimits = limitsFromEnv()): Scenario {
  return parseScenario(readRegularFile(file, limits), file, limits);
}
