import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pidAlive, signalPid } from '../../libs/cluster/src/pids.js';

describe('signalling a process that may have exited', () => {
  it('says false for a process already gone (what down meets when the supervisor stopped a service first), true for one that is there', () => {
    // a pid that was alive a moment ago and is not now: a child that has exited and been reaped
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    expect(pidAlive(gone)).toBe(false);
    expect(signalPid(gone, 'SIGTERM')).toBe(false);
    // signal 0 is not a Signals name: SIGCONT does nothing to a running process
    expect(signalPid(process.pid, 'SIGCONT')).toBe(true);
  });
});
