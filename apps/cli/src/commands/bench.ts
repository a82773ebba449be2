import { writeFileSync } from 'node:fs';
import { infra, usage } from '../errors.js';
import { onCleanup } from '../process-guard.js';
import { writeJsonResult } from '../json-output.js';
import { VERSION } from '../version.js';
import type { FigureGroup } from '../../../../libs/bench/src/index.js';

export interface BenchCommandOptions {
  quick?: boolean;
  json?: boolean;
  out?: string;
  /** comma-separated figures (FIGURE_GROUPS) */
  only?: string;
}

/**
 * `vsva-sim bench`: every figure beside its peer, measured in this invocation on the same Redis
 * (libs/bench). Progress and the table go to stderr; `--json` prints the one result object on
 * stdout; `--out F` writes it to F.
 */
export async function benchCommand(o: BenchCommandOptions): Promise<number> {
  const { runBench, formatTable, lineProgress, FIGURE_GROUPS } = await import('../../../../libs/bench/src/index.js');
  let only: FigureGroup[] | undefined;
  if (o.only !== undefined) {
    const names = o.only.split(',').map((x) => x.trim()).filter(Boolean);
    const unknown = names.filter((x) => !(FIGURE_GROUPS as readonly string[]).includes(x));
    if (!names.length || unknown.length) throw usage(`--only ${o.only}: ${unknown.length ? `no figure ${unknown.join(', ')}` : 'name a figure'} (one or more of ${FIGURE_GROUPS.join(', ')}, comma-separated)`);
    only = names as FigureGroup[];
  }
  const command = ['vsva-sim', 'bench', ...(o.quick ? ['--quick'] : []), ...(only ? ['--only', only.join(',')] : []), ...(o.json ? ['--json'] : []), ...(o.out ? ['--out', o.out] : [])].join(' ');
  let result;
  try {
    result = await runBench({ quick: !!o.quick, only, command, version: VERSION, progress: lineProgress(), guard: onCleanup });
  } catch (e) {
    throw infra(`bench failed: ${(e as Error).stack ?? String(e)}`);
  }
  process.stderr.write(`\n${formatTable(result)}\n`);
  const json = JSON.stringify(result, null, o.out ? 2 : undefined);
  if (o.out) {
    writeFileSync(o.out, `${json}\n`);
    process.stderr.write(`wrote ${o.out}\n`);
  }
  if (o.json) writeJsonResult(result);
  return 0;
}
