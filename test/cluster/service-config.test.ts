import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EXIT_BAD_CONFIG, serviceEntry } from '../../libs/cluster/src/index.js';

// A service reads its environment once, through libs/config, before it connects to anything: a bad
// value is one line naming it and EX_CONFIG (78), which a supervisor logs and startCluster reports
// with the log file. The built service (npm run build); no Redis is reached.

describe('a service with a bad configuration value', () => {
  it('exits 78 at once with one line naming the variable, without connecting', () => {
    const r = spawnSync(process.execPath, [serviceEntry('host-vtd')], {
      encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL',
      // a Redis nobody listens on: had it connected, it would retry instead of exiting
      env: { ...process.env, VSVA_REDIS_URL: 'redis://127.0.0.1:1', VSVA_LEASE_MS: '5s', VSVA_LOG_LEVEL: 'chatty' },
    });
    expect(r.status, r.stderr).toBe(EXIT_BAD_CONFIG);
    expect(r.stderr).toBe("host-vtd: VSVA_LEASE_MS must be an integer >= 300, got '5s' (default: 6000); VSVA_LOG_LEVEL must be trace, debug, info, warn, error, fatal, silent, got 'chatty' (default: info)\n");
  });
});
