import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { pidAlive, startCli, untilGone } from '../support/cli-process.js';

// Every process a command starts is stopped when the command is told to end: Ctrl-C in the middle of
// a bench stops the five services and the private redis-server it started, and the bench exits 130.

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe('vsva-sim bench on Ctrl-C', () => {
  it('stops the services and its private redis-server, exit 130', async () => {
    const p = startCli(['bench', '--quick', '--only', 'hop-latency'], {}, 120_000);
    const [, port] = await p.waitFor(/private redis-server redis:\/\/127\.0\.0\.1:(\d+)/, 60_000);
    const [, up] = await p.waitFor(/up in \d+ ms: ([^\n]+)/, 90_000);
    const pids = [...up!.matchAll(/:(\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(5);
    expect(await listening(Number(port))).toBe(true);
    p.child.kill('SIGINT');
    const r = await p.done;
    expect(r.code, r.stderr.slice(-2000)).toBe(130);
    // bounded: untilGone gives up after its deadline and the assertion names what is left
    await untilGone(pids, 15_000);
    expect(pids.filter(pidAlive)).toEqual([]);
    expect(await listening(Number(port))).toBe(false);
  });
});
