import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ScenarioSchema, scenarioYaml, type Scenario } from '../../scenario/src/index.js';
import type { ExploreState } from './explore.js';
import type { Finding } from './findings.js';

/** Why a folder cannot be continued by this exploration. */
export class StoreError extends Error {}

const STATE = 'state.json';

/** A finding's folder name: its invariant and a short hash of its signature. */
export const findingSlug = (f: Pick<Finding, 'invariant' | 'signature'>) => `${f.invariant}-${createHash('sha1').update(f.signature).digest('hex').slice(0, 8)}`;

/** Written whole or not at all: a Ctrl-C between two writes leaves the previous file. */
function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/**
 * An exploration's folder (`--out`, default .vsva/explore/): `state.json` (seed, policy, next run,
 * quirk counts), `coverage.txt` (one signal per line), `corpus/<run>.yaml` (the programs that reached
 * new coverage) and `findings/<invariant>-<hash>/` (finding.json, the program that found it as
 * original.yaml, the shrunk scenario.yaml and its log run.ndjson). A second exploration with the same
 * folder continues where the first stopped.
 */
export class ExploreStore {
  constructor(readonly dir: string) {}

  /** The state saved in the folder, or undefined when it holds none. */
  load(): ExploreState | undefined {
    const file = join(this.dir, STATE);
    if (!existsSync(file)) return undefined;
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Omit<ExploreState, 'coverage' | 'corpus' | 'findings' | 'quirks'> & { quirks: Record<string, number> };
    const cov = join(this.dir, 'coverage.txt');
    const coverage = new Set(existsSync(cov) ? readFileSync(cov, 'utf8').split('\n').filter(Boolean) : []);
    const corpusDir = join(this.dir, 'corpus');
    const corpus = existsSync(corpusDir)
      ? readdirSync(corpusDir).filter((f) => f.endsWith('.yaml')).sort((a, b) => parseInt(a, 10) - parseInt(b, 10)).map((f) => this.scenario(join(corpusDir, f)))
      : [];
    const found: Finding[] = [];
    const fdir = join(this.dir, 'findings');
    if (existsSync(fdir)) {
      for (const d of readdirSync(fdir)) {
        const jf = join(fdir, d, 'finding.json');
        if (!existsSync(jf)) continue;
        const f = JSON.parse(readFileSync(jf, 'utf8')) as Finding;
        found.push({ ...f, scenario: this.scenario(join(fdir, d, 'original.yaml')) });
      }
    }
    // in the order they were found, as the exploration that wrote them held them
    const findings = new Map(found.sort((a, b) => a.ordinal - b.ordinal).map((f) => [f.key, f]));
    return { ...raw, coverage, corpus, findings, quirks: new Map(Object.entries(raw.quirks ?? {})) };
  }

  private scenario(file: string): Scenario {
    const r = ScenarioSchema.safeParse(parse(readFileSync(file, 'utf8')));
    if (!r.success) throw new StoreError(`${file}: not a scenario this version reads (${r.error.issues[0]?.message}); use another --out`);
    return r.data;
  }

  /** The state after a batch (the corpus and findings are written as they come). */
  save(st: ExploreState): void {
    mkdirSync(this.dir, { recursive: true });
    const { coverage, corpus, findings, quirks, ...rest } = st;
    writeAtomic(join(this.dir, 'coverage.txt'), `${[...coverage].sort().join('\n')}\n`);
    writeAtomic(join(this.dir, STATE), `${JSON.stringify({ ...rest, corpus: corpus.length, findings: findings.size, quirks: Object.fromEntries(quirks) }, null, 2)}\n`);
  }

  addCorpus(sc: Scenario, index: number): void {
    const d = join(this.dir, 'corpus');
    mkdirSync(d, { recursive: true });
    writeAtomic(join(d, `${index}.yaml`), scenarioYaml(sc, `exploration run ${index}: reached coverage no earlier run had`));
  }

  /** Writes (or rewrites, once shrunk) a finding's folder; returns its files. */
  writeFinding(f: Finding, extra: { shrunkYaml?: string } = {}): NonNullable<Finding['files']> {
    const d = join(this.dir, 'findings', findingSlug(f));
    mkdirSync(d, { recursive: true });
    // run.ndjson: the shrunk run's log, written beside by whoever shrank it
    const log = join(d, 'run.ndjson');
    const files = { original: join(d, 'original.yaml'), scenario: join(d, 'scenario.yaml'), ...(existsSync(log) ? { log } : {}) };
    writeAtomic(files.original, scenarioYaml(f.scenario, `the program of exploration run ${f.index} (seed ${f.seed}, scheduler bias ${f.bias}): ${f.invariant}`));
    writeAtomic(files.scenario, extra.shrunkYaml ?? scenarioYaml(f.scenario));
    const { scenario: _, ...json } = f;
    writeAtomic(join(d, 'finding.json'), `${JSON.stringify({ ...json, files }, null, 2)}\n`);
    return files;
  }
}
