import { errnoName, type LogEntry } from '../../contracts/src/index.js';
import { cacheCoverageOf } from './cache-coverage.js';

/**
 * The fields of an output's payload that say which way a decider went: its return value (as the
 * errno's name), why it refused, which kind of thing it did, what the kernel printed and where.
 */
const BRANCH_FIELDS = ['why', 'reason', 'kind', 'status', 'level', 'fn', 'via', 'what', 'where', 'got', 'fault', 'granularity', 'granu', 'cache', 'source'] as const;
/** Counts whose being zero or not is a branch (an invalidation that flushed nothing, a response to no request). */
const COUNT_FIELDS = ['processed', 'retries', 'users'] as const;

const scalar = (v: unknown) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

function retName(ret: unknown): string | undefined {
  if (typeof ret !== 'number') return undefined;
  return ret < 0 ? `-${errnoName(ret) ?? ret}` : ret === 0 ? '0' : '>0';
}

/**
 * The cheap coverage signal of a run, read from its log (the deciders' outputs are their branches'
 * traces): one string per (component, output type, outcome) tuple it reached, the outcome being its
 * errno or the fields that name a branch. A run whose set holds a string no earlier run reached is
 * interesting and goes into the corpus, as syzkaller keeps a program that reaches new edges.
 */
export function coverageOf(entries: readonly LogEntry[]): Set<string> {
  const out = new Set<string>();
  for (const e of entries) {
    if (e.kind === 'input') continue;
    const p = (e.payload ?? {}) as Record<string, unknown>;
    const where = e.kind === 'command' ? `${e.component}>${e.to}:${e.type}` : `${e.component}:${e.type}`;
    const parts = [where];
    const ret = retName(p.ret) ?? retName((p.outcome as { ret?: unknown } | undefined)?.ret);
    if (ret) parts.push(`ret=${ret}`);
    for (const f of BRANCH_FIELDS) {
      const v = scalar(p[f]);
      if (v !== undefined && v.length <= 40) parts.push(`${f}=${v}`);
    }
    for (const f of COUNT_FIELDS) if (typeof p[f] === 'number') parts.push(`${f}${p[f] === 0 ? '=0' : '>0'}`);
    if (p.oops) parts.push('oops');
    out.add(parts.join(' '));
  }
  for (const c of cacheCoverageOf(entries)) out.add(c);
  return out;
}
