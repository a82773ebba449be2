import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENTS, resolvePolicy } from '../../libs/contracts/src/index.js';
import { pidAlive } from '../../libs/cluster/src/index.js';
import { checkDelivery, drawSchedule, NEMESIS_KINDS, type InjectedFault, type NemesisAction, type NemesisSchedule } from '../../libs/chaos/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { RedisRunLog } from '../../libs/event-log/src/index.js';
import { buildReport } from '../../libs/runtime/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';
import { stateDir } from '../../apps/cli/src/cluster-state.js';
import { openChaosCluster, type ChaosCluster, type ChaosClusterRun } from '../../apps/cli/src/chaos/cluster-chaos.js';

// Issue 11: a cluster chaos run with a kill of each service, a pause, a Redis restart and a duplicate
// ends as the fault-free run ends: the same verdict, each input consumed once, every command consumed.

const FILE = 'scenarios/four-vms-two-parents-background.yaml';
const scenario = loadScenario(FILE);
const policy = resolvePolicy('mainline');
const reference = await runEmbedded({ runId: 'nemesis-reference', scenario, policy, seed: 1 });
const referenceVerdict = buildReport({ runId: 'nemesis-reference', entries: reference.entries, scenario: { name: scenario.name, file: FILE }, policy, engine: 'embedded', seed: 1, wallMs: 0, reproduce: '' }).verdict;

/** Spread over the first three quarters of the run, so the run reaches every one. */
function schedule(entries: number): NemesisSchedule {
  const at = (f: number) => Math.round(entries * f);
  const actions: NemesisAction[] = [
    ...COMPONENTS.map((target, i): NemesisAction => ({ atSeq: at(0.06 + 0.09 * i), kind: 'kill', target })),
    { atSeq: at(0.5), kind: 'pause', target: 'mdev-parent', forMs: 3000 },
    { atSeq: at(0.6), kind: 'redis', target: 'redis' },
    { atSeq: at(0.7), kind: 'duplicate', target: 'vfio-type1' },
  ];
  return { version: 1, seed: 1, actions };
}

let chaos: ChaosCluster;
let run: ChaosClusterRun;
let drawn: ChaosClusterRun;
const faults: InjectedFault[] = [];

const request = (name: string) => ({ runId: `${name}-${Date.now().toString(36)}`, scenario, file: FILE, policy, seed: 1, stepTimeoutMs: 60_000, reproduce: 'test' });
const say = (s: string) => process.stderr.write(`[nemesis] ${s}\n`);
function report(what: string, r: ChaosClusterRun, ms: number): void {
  say(`${what}: ${ms} ms, ${r.entries.length} entries (embedded ${reference.entries.length}); healed at seq ${r.healed.atSeq} after ${r.healed.atMs} ms`);
  for (const f of r.injected) say(`  ${f.kind} ${f.target} at seq ${f.seq}, ${f.atMs} ms: ${f.note}`);
}

/** Exactly once, read off the log: each input consumed once, every command consumed by its receiver, no hole. */
const delivered = { lost: 0, duplicated: 0, problems: [] };

beforeAll(async () => {
  const t0 = Date.now();
  chaos = await openChaosCluster({ timeoutMs: 240_000, stepTimeoutMs: 60_000 });
  say(`open: ${Date.now() - t0} ms`);
}, 120_000);

afterAll(() => chaos?.close(), 60_000);

describe('the nemesis on a cluster it owns', () => {
  it('kills every service once, pauses one past its lock, restarts Redis and delivers an input twice: the run completes as the embedded one ends', async () => {
    const sched = schedule(reference.entries.length);
    const t0 = Date.now();
    run = await chaos.run(request('nemesis'), sched, (f) => faults.push(f));
    report('faulted run', run, Date.now() - t0);

    expect(run.missed).toEqual([]);
    expect(run.injected.map((f) => `${f.kind} ${f.target}`)).toEqual(sched.actions.map((a) => `${a.kind} ${a.target}`));
    expect(faults).toEqual(run.injected);
    expect(run.healed.revived).toEqual([]);
    expect(run.completed).toBe(true);
    expect(run.report.verdict).toBe(referenceVerdict);
    expect(run.report.stats.entries).toBe(run.entries.length);
  }, 300_000);

  it('... each input consumed once, every command consumed by its receiver, nothing missing from the log', () => {
    expect(checkDelivery(run.entries)).toEqual(delivered);
  });

  it('... the duplicate was of an input already consumed, and the service did not decide it again', () => {
    const dup = run.injected.find((f) => f.kind === 'duplicate')!;
    const eventId = /\((?:[^,]+), (in:[^)]+)\)/.exec(dup.note ?? '')?.[1];
    expect(eventId, dup.note).toBeDefined();
    expect(run.entries.filter((e) => e.kind === 'input' && e.component === 'vfio-type1' && e.eventId === eventId)).toHaveLength(1);
  });

  it('a schedule drawn from a seed with every kind once (crash, disconnect and delay too): the same, on the same cluster', async () => {
    const sched = drawSchedule(5, {}, { entries: reference.entries.length, atLeastOnce: [...NEMESIS_KINDS] });
    const t0 = Date.now();
    drawn = await chaos.run(request('nemesis-drawn'), sched);
    report('drawn run', drawn, Date.now() - t0);
    expect(drawn.missed).toEqual([]);
    expect(drawn.injected.map((f) => f.kind).sort()).toEqual([...NEMESIS_KINDS].sort());
    expect(drawn.healed.revived).toEqual([]);
    expect(drawn.completed).toBe(true);
    expect(drawn.report.verdict).toBe(referenceVerdict);
    expect(checkDelivery(drawn.entries)).toEqual(delivered);
  }, 300_000);

  it('a schedule it cannot act is bad input (exit 2) naming the field, and nothing is run', async () => {
    const bad = { version: 1, seed: 1, actions: [{ atSeq: 5, kind: 'kill', target: 'redis' }] } as unknown as NemesisSchedule;
    const req = request('nemesis-bad');
    await expect(chaos.run(req, bad)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/actions\[0\]\.target: .*accepted: orchestrator/) });
    const log = RedisRunLog.fromUrl(chaos.cfg.redisUrl, { prefix: chaos.cfg.prefix });
    expect(await log.length(req.runId)).toBe(0);
    await log.close();
  });

  it('leaves no process it started, stopped or running, after close', async () => {
    const pids = chaos.pids();
    // the five and a new process for each kill and crash; a redis-server and one per restart
    const restarts = [...run.injected, ...drawn.injected].filter((f) => f.kind === 'kill' || f.kind === 'crash').length;
    const redisServers = 1 + [...run.injected, ...drawn.injected].filter((f) => f.kind === 'redis').length;
    expect(pids).toHaveLength(5 + restarts + redisServers);
    // state T in /proc/<pid>/stat: stopped by a signal (a process gone meanwhile is not)
    const stopped = (ps: number[]) => ps.filter((p) => {
      try {
        return / T /.test(readFileSync(`/proc/${p}/stat`, 'utf8'));
      } catch {
        return false;
      }
    });
    // every pause and delay ended in a SIGCONT before the run returned
    expect(stopped(pids)).toEqual([]);
    const t0 = Date.now();
    await chaos.close();
    say(`close: ${Date.now() - t0} ms`);
    expect({ left: pids.filter(pidAlive), stopped: stopped(pids) }).toEqual({ left: [], stopped: [] });
  }, 60_000);
});

describe('a chaos cluster without redis-server', () => {
  it('is an infrastructure error (exit 3) that says to put it on PATH, and leaves nothing behind', async () => {
    const before = existsSync(stateDir()) ? readdirSync(stateDir()) : [];
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(openChaosCluster({ timeoutMs: 10_000, stepTimeoutMs: 5000 })).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/redis-server.*PATH/) });
    } finally {
      process.env.PATH = path;
    }
    expect(existsSync(stateDir()) ? readdirSync(stateDir()) : []).toEqual(before);
  });
});
