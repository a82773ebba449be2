import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(import.meta.dirname, '../..');
const fixtureJs = join(root, 'dist/test/fixtures/transport/echo-service.js');
const sourceDirs = [join(root, 'libs/transport/src'), join(root, 'test/fixtures/transport')];

/**
 * `npm test` builds first; when run alone (`npx vitest run test/transport`) the fixture's js may be
 * missing or older than its sources: compile just the fixture and the transport library then.
 */
export function ensureFixtureBuilt(): void {
  const built = existsSync(fixtureJs) ? statSync(fixtureJs).mtimeMs : 0;
  const newest = Math.max(
    ...sourceDirs.flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => statSync(join(dir, f)).mtimeMs),
    ),
  );
  if (built >= newest) return;
  execFileSync('npx', ['tsc', '-p', 'test/fixtures/transport/tsconfig.json'], { cwd: root, stdio: 'pipe' });
}

export interface EchoEnv {
  url: string;
  prefix: string;
  queue: string;
}

/** The echo-service fixture as a child process, its stdout read line by line. */
export class EchoProcess {
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.test(line)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  }

  static async start(env: EchoEnv, readyMs = 20_000): Promise<EchoProcess> {
    const child = spawn(process.execPath, [fixtureJs], {
      cwd: root,
      env: { ...process.env, TRANSPORT_REDIS_URL: env.url, TRANSPORT_PREFIX: env.prefix, TRANSPORT_QUEUE: env.queue },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new EchoProcess(child);
    await p.waitForLine((l) => l === 'ready', readyMs);
    return p;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first line (already seen or to come) that passes `test`. */
  waitForLine(test: (line: string) => boolean, ms = 10_000): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        rej(new Error(`echo-service: no matching line within ${ms} ms; stdout: ${this.lines.join(' | ')}; stderr: ${this.stderr.join('')}`));
      }, ms);
      const onExit = (code: number | null) =>
        rej(new Error(`echo-service exited (${code}) before the line; stderr: ${this.stderr.join('')}`));
      this.child.once('exit', onExit);
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          res(line);
        },
      });
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `ms`. */
  async stop(ms = 10_000): Promise<void> {
    if (!this.running) return;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(timer);
  }
}
