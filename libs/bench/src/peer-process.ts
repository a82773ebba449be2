import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, PeerChildConfig } from './peer-child.js';

const CHILD = fileURLToPath(new URL('./peer-child.js', import.meta.url));

/** A forked peer process (peer-child.ts), ready to take jobs. */
export interface PeerProcess {
  pid: number;
  report(): Promise<{ ts: number[]; cpuUs: number }>;
  stop(): Promise<void>;
}

export async function forkPeer(cfg: PeerChildConfig, timeoutMs = 20_000): Promise<PeerProcess> {
  const what = `peer process ${cfg.mode} (${cfg.mode === 'oneway' ? cfg.queues.join(', ') : cfg.queue})`;
  const child: ChildProcess = fork(CHILD, [JSON.stringify(cfg)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waitFor = <T extends ChildMessage['type']>(type: T, ms: number) =>
    new Promise<Extract<ChildMessage, { type: T }>>((resolve, reject) => {
      const t = setTimeout(() => {
        cleanup();
        reject(new Error(`${what}: no '${type}' within ${ms} ms`));
      }, ms);
      const onMsg = (m: ChildMessage) => {
        if (m.type === type) {
          cleanup();
          resolve(m as Extract<ChildMessage, { type: T }>);
        } else if (m.type === 'error') {
          cleanup();
          reject(new Error(`${what}: ${m.message}`));
        }
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`${what} exited (${code}) before '${type}'`));
      };
      const cleanup = () => {
        clearTimeout(t);
        child.off('message', onMsg);
        child.off('exit', onExit);
      };
      child.on('message', onMsg);
      child.once('exit', onExit);
    });
  try {
    await waitFor('ready', timeoutMs);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    pid: child.pid!,
    async report() {
      const r = waitFor('report', timeoutMs);
      child.send({ type: 'report' });
      const m = await r;
      return { ts: m.ts, cpuUs: m.cpuUs };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.send({ type: 'stop' });
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
