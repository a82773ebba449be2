import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
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

/** Parses and validates scenario text; `file` names it in errors. */
export function parseScenario(text: string, file: string): Scenario {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ScenarioError(file, doc.errors.map((e) => ({ path: `line ${e.linePos?.[0].line ?? '?'}`, message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  const raw = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ScenarioError(file, [{ path: '', message: 'expected a mapping with name, description, parents, vms and steps' }]);
  }
  const parsed = ScenarioSchema.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(file, issuesToProblems(parsed.error.issues));
  return parsed.data;
}

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(file, [{ path: '', message: `cannot read the file: ${(e as Error).message}` }]);
  }
  return parseScenario(text, file);
}
