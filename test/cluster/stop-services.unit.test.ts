import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stopServices, type StartedService } from '../../libs/cluster/src/index.js';

// startCluster's stop (libs/cluster/src/service-process.ts): SIGTERM, then SIGKILL past the deadline.
// Plain Node processes stand in for services; no Redis.

/** A Node process running `script`, once it has run it (it says so on stdout): its handlers are in place. */
async function fake(script: string): Promise<StartedService> {
  const child = spawn(process.execPath, ['-e', `${script}; process.stdout.write('ready')`], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((r) => child.stdout!.once('data', r));
  return { component: 'host-vtd', pid: child.pid!, child, logFile: '/dev/null' };
}

describe('stopServices', () => {
  it('a service that exits on SIGTERM is stopped by it, within the grace', async () => {
    const s = await fake('setInterval(() => {}, 1000)');
    const t0 = Date.now();
    await stopServices([s], 5000);
    expect(s.child.signalCode).toBe('SIGTERM');
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it('one that ignores SIGTERM is SIGKILLed once the grace is over', async () => {
    const s = await fake("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)");
    const t0 = Date.now();
    await stopServices([s], 500);
    expect(s.child.signalCode).toBe('SIGKILL');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
  });

  it('one already gone is left alone', async () => {
    const s = await fake('');
    if (s.child.exitCode === null) await new Promise((r) => s.child.once('exit', r));
    await stopServices([s], 100);
    expect(s.child.exitCode).toBe(0);
  });
});
