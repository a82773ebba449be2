import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliProcess {
  child: ChildProcess;
  /** stderr so far */
  stderr(): string;
  /** stdout so far */
  stdout(): string;
  /** resolves once stderr matches (or rejects after `ms`) */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  done: Promise<CliResult>;
}

/**
 * The CLI as its own process, as a user starts it; killed with SIGKILL if it outlives `killAfterMs`
 * (the test then fails on the result, and nothing is left running).
 */
export function startCli(args: string[], env: Record<string, string | undefined> = {}, killAfterMs = 120_000): CliProcess {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['bin/vsva-sim.js', ...args], { env: { ...process.env, REDIS_URL: '', VSVA_REDIS_URL: '', ...env } as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const done = new Promise<CliResult>((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      // let the pipes drain
      setTimeout(() => resolve({ code, signal, stdout: out, stderr: err, ms: Date.now() - t0 }), 20);
    }),
  );
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    done,
    waitFor: (re, ms = 60_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + ms;
        const t = setInterval(() => {
          const m = re.exec(err);
          if (m) {
            clearInterval(t);
            resolve(m);
          } else if (Date.now() > deadline || child.exitCode !== null) {
            clearInterval(t);
            reject(new Error(`no ${re} in the CLI's stderr within ${ms} ms:\n${err}`));
          }
        }, 25);
      }),
  };
}

export const runCli = (args: string[], env: Record<string, string | undefined> = {}, killAfterMs?: number) => startCli(args, env, killAfterMs).done;

export { pidAlive, untilGone } from '../../libs/cluster/src/index.js';

/**
 * The built CLI run to its end, synchronously, with no Redis (so `--engine auto` is the embedded engine)
 * and its own state folder: what a user without a cluster runs.
 */
export function embeddedCli(stateDir: string): (args: string[]) => { code: number | null; stdout: string; stderr: string } {
  return (args) => {
    const r = spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], { encoding: 'utf8', env: { ...process.env, REDIS_URL: '', VSVA_STATE_DIR: stateDir } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
}
