import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExploreRunResult, ExploreRunSpec } from '../run-spec.js';
import type { FromChild, ToChild } from './messages.js';

export interface ChildWorkersOptions {
  /** the child's script; default the compiled child.js (see childEntry) */
  entry?: string;
  /** a child not ready this long after it was started has failed */
  startMs?: number;
  /** a run that takes longer fails and its child is killed (a generated run is bounded by MAX_DELIVERIES well before) */
  runMs?: number;
}

/** A child that died, did not start or overran its run: what the caller of the run sees. */
export class ExploreWorkerError extends Error {}

/**
 * The compiled child: beside this file when it runs from dist/ (the CLI), else dist/'s copy (the
 * TypeScript sources under vitest cannot be forked as they are): `npm run build` makes it.
 */
export function childEntry(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'child.js');
  return join(dirname(here), '..', '..', '..', '..', 'dist', 'libs', 'explore', 'src', 'pool', 'child.js');
}

const STDERR_TAIL = 2000;
const KILL_WAIT_MS = 2000;

/** One forked child running one spec at a time; every wait on it has a deadline. */
class Child {
  private readonly proc: ChildProcess;
  private stderr = '';
  private readonly ready: Promise<void>;
  private pending?: { index: number; resolve: (r: ExploreRunResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
  /** why it ended, once it has */
  gone?: string;
  private readonly exited: Promise<void>;

  constructor(entry: string, startMs: number) {
    // execArgv empty: the parent's loader flags (vitest's) are not the child's
    this.proc = fork(entry, [], { silent: true, execArgv: [], serialization: 'json' });
    this.proc.stdout!.resume();
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-STDERR_TAIL)));
    this.exited = new Promise<void>((done) => this.proc.once('exit', () => done()));
    let readyFail: (e: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      readyFail = reject;
      const timer = setTimeout(() => {
        reject(this.failure(`was not ready within ${startMs} ms`));
        this.proc.kill('SIGKILL');
      }, startMs);
      this.proc.once('exit', () => clearTimeout(timer));
      this.proc.on('message', (m: FromChild) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (m.type === 'result' && this.pending) {
          const p = this.pending;
          this.pending = undefined;
          clearTimeout(p.timer);
          p.resolve(m.result);
        }
      });
    });
    this.ready.catch(() => {});
    const end = (why: string) => {
      if (this.gone) return;
      this.gone = why;
      const e = this.failure(why);
      readyFail(e);
      const p = this.pending;
      this.pending = undefined;
      if (p) {
        clearTimeout(p.timer);
        p.reject(this.failure(`${why} while running run #${p.index}`));
      }
    };
    this.proc.once('exit', (code, signal) => end(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    this.proc.once('error', (e) => {
      end(`failed: ${e.message}`);
      this.proc.kill('SIGKILL');
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  private failure(what: string): ExploreWorkerError {
    const tail = this.stderr.trim();
    return new ExploreWorkerError(`explore child process ${this.proc.pid ?? '(not started)'} ${what}${tail ? `; its stderr ends: ${tail}` : ''}`);
  }

  async run(spec: ExploreRunSpec, runMs: number): Promise<ExploreRunResult> {
    await this.ready;
    if (this.gone) throw this.failure(this.gone);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(this.failure(`did not finish run #${spec.index} within ${runMs} ms: killed`));
        this.proc.kill('SIGKILL');
      }, runMs);
      this.pending = { index: spec.index, resolve, reject, timer };
      this.proc.send({ type: 'run', spec } satisfies ToChild, (e) => {
        if (e && this.pending?.timer === timer) {
          this.pending = undefined;
          clearTimeout(timer);
          reject(this.failure(`could not be sent run #${spec.index}: ${e.message}`));
        }
      });
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.gone ??= 'was stopped';
    this.proc.kill('SIGTERM');
    if (await within(this.exited, graceMs)) return;
    this.proc.kill('SIGKILL');
    await within(this.exited, KILL_WAIT_MS);
  }
}

async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  const r = await Promise.race([p.then(() => true as const), late]);
  clearTimeout(timer);
  return r;
}

/**
 * `size` child processes on this machine, each running one simulation at a time: a run takes an idle
 * child or waits for one. A child that dies fails the run it held (with its exit and stderr) and is
 * replaced at the next run that needs it.
 */
export class ChildWorkers {
  private readonly children: Array<Child | undefined>;
  private readonly idle: number[];
  private readonly waiting: Array<(slot: number) => void> = [];
  private closed = false;
  private readonly entry: string;
  private readonly startMs: number;
  private readonly runMs: number;

  constructor(readonly size: number, o: ChildWorkersOptions = {}) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`explore workers: ${size}: need a whole number of at least 1`);
    this.entry = o.entry ?? childEntry();
    if (!existsSync(this.entry)) throw new ExploreWorkerError(`${this.entry} is missing: run 'npm run build' first`);
    this.startMs = o.startMs ?? 30_000;
    this.runMs = o.runMs ?? 300_000;
    // started now: their start overlaps the caller's own
    this.children = Array.from({ length: size }, () => new Child(this.entry, this.startMs));
    this.idle = this.children.map((_, i) => i);
  }

  /** The children's process ids (a replaced child's new one). */
  pids(): number[] {
    return this.children.flatMap((c) => (c?.pid !== undefined && !c.gone ? [c.pid] : []));
  }

  /** Runs one spec on an idle child; `cancelled` is asked once it has one (a failed batch starts no more). */
  async runOne(spec: ExploreRunSpec, cancelled: () => boolean = () => false): Promise<ExploreRunResult> {
    const slot = await this.take();
    try {
      if (this.closed) throw new ExploreWorkerError('explore workers: closed');
      if (cancelled()) throw new ExploreWorkerError('explore workers: batch abandoned');
      let c = this.children[slot];
      if (!c || c.gone) c = this.children[slot] = new Child(this.entry, this.startMs);
      return await c.run(spec, this.runMs);
    } finally {
      this.give(slot);
    }
  }

  private take(): Promise<number> {
    const slot = this.idle.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((r) => this.waiting.push(r));
  }

  private give(slot: number): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.idle.push(slot);
  }

  async close(graceMs = 3000): Promise<void> {
    this.closed = true;
    await Promise.all(this.children.map((c) => c?.stop(graceMs)));
  }
}
