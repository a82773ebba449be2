#!/usr/bin/env node
// `npm run demo`: the seed bug of the project, in the cluster engine, under v1 (the patch under review)
// and under v2 (the fix), and what differs. Starts the cluster once (`vsva-sim up`) and stops it after.
import { spawnSync } from 'node:child_process';

const cli = (args, opts = {}) => spawnSync(process.execPath, ['bin/vsva-sim.js', ...args], { encoding: 'utf8', ...opts });
const scenario = 'scenarios/seed-null-iommu-device.yaml';
const t0 = Date.now();

const up = cli(['up'], { stdio: ['ignore', 'inherit', 'inherit'] });
if (up.status !== 0) process.exit(up.status ?? 3);
const reports = {};
try {
  for (const preset of ['v1', 'v2']) {
    process.stderr.write(`\n=== ${scenario} under --policy ${preset} (cluster engine) ===\n`);
    const r = cli(['run', scenario, '--policy', preset, '--engine', 'cluster', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0 && r.status !== 1) process.exit(r.status ?? 3);
    reports[preset] = { ...JSON.parse(r.stdout), exit: r.status };
  }
} finally {
  cli(['down'], { stdio: ['ignore', 'inherit', 'inherit'] });
}

const row = (p) => {
  const r = reports[p];
  const bind = r.outcomes.find((o) => o.op === 'bind');
  const inv = r.violations.map((v) => v.invariant).join(', ') || 'none';
  return `${p.padEnd(6)} ${`exit ${r.exit}`.padEnd(8)} ${r.verdict.padEnd(8)} ${`bind → ${bind.result === 'oops' ? 'host oops' : bind.result}`.padEnd(20)} ${String(r.stats.entries).padEnd(8)} ${inv}`;
};
console.log('\nThe seed review (vSVA v1 8/8, Alex Williamson): a NULL iommu device handed to intel_svm_bind_gpasid.\n');
console.log(`${'policy'.padEnd(6)} ${'exit'.padEnd(8)} ${'verdict'.padEnd(8)} ${'guest sees'.padEnd(20)} ${'entries'.padEnd(8)} violations`);
console.log(row('v1'));
console.log(row('v2'));
const oops = reports.v1.violations.find((v) => v.invariant === 'no-host-oops');
if (oops) console.log(`\nv1: ${oops.message}\n    proved by log entries ${oops.events.map((s) => `#${s}`).join(' ')} of run ${reports.v1.runId}`);
console.log(`v2: VFIO returns -EINVAL (22) when vfio_mdev_get_iommu_device() is NULL, and unwinds the devices already bound.`);
// every cluster run is kept as a file when it ends: the dashboard and `diagram` read it with the cluster down
console.log('\nSee each run step by step in the dashboard (start it with `npx vsva-sim ui`), or as a diagram to paste into a review:');
for (const p of ['v1', 'v2']) {
  const id = reports[p].runId;
  console.log(`  ${p.padEnd(3)} http://127.0.0.1:7480/runs/${encodeURIComponent(id)}\n      npx vsva-sim diagram ${id}`);
}
console.log(`\ndemo wall time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
