import { infra } from './errors.js';

/**
 * What a command started and must stop, whatever ends it: a normal return, an error, Ctrl-C
 * (SIGINT), SIGTERM or SIGHUP, or its own `--timeout`. Cleanups run once, newest first, each bounded:
 * a stuck one is left behind after `graceMs` so that the process still exits.
 */
type Cleanup = { what: string; fn: () => Promise<void> };

const cleanups: Cleanup[] = [];
let installed = false;
let cleaning: Promise<void> | undefined;

const say = (s: string) => process.stderr.write(`${s}\n`);

/** Registers something to stop; returns a function that unregisters it (it was stopped normally). */
export function onCleanup(what: string, fn: () => Promise<void>): () => void {
  installSignals();
  const c = { what, fn };
  cleanups.push(c);
  return () => {
    const i = cleanups.indexOf(c);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** Runs every registered cleanup, newest first, each within `graceMs`. */
export function runCleanups(graceMs = 8000): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const c = cleanups.pop()!;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
      const r = await Promise.race([c.fn().then(() => 'ok' as const, (e: Error) => e), late]);
      clearTimeout(timer);
      if (r === 'late') say(`vsva-sim: stopping ${c.what} took longer than ${graceMs} ms: left behind`);
      else if (r instanceof Error) say(`vsva-sim: stopping ${c.what}: ${r.message}`);
    }
  })();
  return cleaning;
}

function installSignals(): void {
  if (installed) return;
  installed = true;
  const codes: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  for (const sig of Object.keys(codes) as NodeJS.Signals[]) {
    process.once(sig, () => {
      say(`vsva-sim: ${sig}: stopping what this command started`);
      // a second signal, or cleanups that hang: out at once
      process.once(sig, () => process.exit(codes[sig]));
      const hard = setTimeout(() => process.exit(codes[sig]), 15_000);
      hard.unref();
      void runCleanups().finally(() => process.exit(codes[sig]));
    });
  }
}

/**
 * `--timeout`: the whole command, closing included. The work races the deadline; when the deadline
 * wins, the error (exit 3) says what was going on, cleanups still run (bounded), and a timer that
 * nothing can hold off ends the process if they do not finish.
 */
export async function withDeadline<T>(ms: number, phase: () => string, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const hard = setTimeout(() => {
        say(`vsva-sim: --timeout ${ms} ms: cleanup did not finish, exiting`);
        process.exit(3);
      }, 10_000);
      hard.unref();
      reject(infra(`--timeout: gave up after ${ms} ms while ${phase()}`));
    }, ms);
  });
  try {
    return await Promise.race([work(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
