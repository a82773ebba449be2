import { writeFileSync } from 'node:fs';
import { infra } from '../errors.js';
import { writeJsonResult } from '../json-output.js';
import { VERSION } from '../version.js';

export interface BenchCommandOptions {
  quick?: boolean;
  json?: boolean;
  out?: string;
}

/**
 * `vsva-sim bench`: every figure beside its peer, measured in this invocation on the same Redis
 * (libs/bench). Progress and the table go to stderr; `--json` prints the one result object on
 * stdout; `--out F` writes it to F.
 */
export async function benchCommand(o: BenchCommandOptions): Promise<number> {
  const { runBench, formatTable, lineProgress } = await import('../../../../libs/bench/src/index.js');
  const command = ['vsva-sim', 'bench', ...(o.quick ? ['--quick'] : []), ...(o.json ? ['--json'] : []), ...(o.out ? ['--out', o.out] : [])].join(' ');
  let result;
  try {
    result = await runBench({ quick: !!o.quick, command, version: VERSION, progress: lineProgress() });
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
