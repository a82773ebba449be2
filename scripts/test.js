#!/usr/bin/env node
// Runs vitest, then prints the plain closing line CI reads: "N passed, N failed".
// Exit code: vitest's, or 1 when the report is missing. Arguments go to vitest:
//   node scripts/test.js                   every project (npm test)
//   node scripts/test.js --project unit    the pure tests, no Redis and no build (npm run test:unit)
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const out = join('.vsva', 'test-report.json');
mkdirSync('.vsva', { recursive: true });
rmSync(out, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
const r = spawnSync('npx', args, { stdio: 'inherit' });
let passed = 0, failed = 0, skipped = 0;
try {
  const rep = JSON.parse(readFileSync(out, 'utf8'));
  passed = rep.numPassedTests; failed = rep.numFailedTests + (rep.numFailedTestSuites ?? 0) * (rep.numFailedTests ? 0 : 1);
  skipped = (rep.numPendingTests ?? 0) + (rep.numTodoTests ?? 0);
} catch {
  console.log('0 passed, 1 failed');
  process.exit(r.status || 1);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(r.status ?? 1);
