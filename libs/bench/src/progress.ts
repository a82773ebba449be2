import type { Progress } from './types.js';

/** Plain progress lines on stderr: `[bench 12.3s] phase (2/3) what`. Quiet: nothing. */
export function lineProgress(out: NodeJS.WritableStream = process.stderr, quiet = false): Progress {
  const t0 = performance.now();
  let phase = '';
  let total = 0;
  let n = 0;
  const stamp = () => `[bench ${((performance.now() - t0) / 1000).toFixed(1)}s]`;
  const write = (s: string) => {
    if (!quiet) out.write(`${stamp()} ${s}\n`);
  };
  return {
    phase(name, t) {
      phase = name;
      total = t;
      n = 0;
      write(`${name}${t ? ` (${t} steps)` : ''}`);
    },
    tick(what) {
      n++;
      write(`  ${phase} ${n}/${total}${what ? `: ${what}` : ''}`);
    },
    note: (line) => write(`  ${line}`),
    done: () => write('done'),
  };
}
