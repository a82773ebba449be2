import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../support/cli-process.js';

// `vsva-sim chaos --engine cluster` as a user runs it (the built CLI): the nemesis acts on a cluster the
// command starts for itself, the run is judged against the embedded engine driven by the cluster's own
// consumption order, the schedule is kept for --schedule; Ctrl-C mid-pause leaves nothing stopped or running.

const FILE = 'scenarios/seed-null-iommu-device.yaml';
const env = () => ({ VSVA_STATE_DIR: mkdtempSync(join(tmpdir(), 'vsva-chaos-cli-')) });

/** Whether a process exists, and whether it is stopped (SIGSTOP: state T in /proc/<pid>/stat). */
function procState(pid: number): 'gone' | 'stopped' | 'running' {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'T' ? 'stopped' : state === 'Z' ? 'gone' : 'running';
  } catch {
    return 'gone';
  }
}

/** The pids the command said it started: `redis-server N ...`, `orchestrator:N ...`. */
function startedPids(stderr: string): number[] {
  const line = stderr.split('\n').find((l) => l.startsWith('chaos: a cluster of its own')) ?? '';
  return [...line.matchAll(/(?:redis-server |:)(\d+)/g)].map((m) => Number(m[1]));
}

describe('vsva-sim chaos --engine cluster', () => {
  it('kills, pauses and restarts Redis at drawn log positions: nothing lost or doubled, the same log as the embedded engine over the same order; the schedule given back replays', async () => {
    const e = env();
    const r = await startCli(['chaos', FILE, '--engine', 'cluster', '--policy', 'v2', '--faults', 'kill,pause,redis,duplicate', '--runs', '1', '--seed', '3', '--json'], e, 240_000).done;
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ ok: true, engine: 'cluster', runs: 1, lost: 0, duplicated: 0, replayIdentical: true, differing: 0, findings: [] });
    for (const k of ['kill', 'pause', 'redis', 'duplicate']) expect(s.faults[k], k).toBe(1);
    // each action said as it happened, on the lane of its target
    expect(r.stderr).toMatch(/⚡ kill (orchestrator|guest-viommu|vfio-type1|mdev-parent|host-vtd) at log #\d+/);
    expect(r.stderr).toMatch(/⚡ redis redis at log #\d+/);
    // nothing the command started is left
    const pids = startedPids(r.stderr);
    expect(pids).toHaveLength(6);
    for (const pid of pids) expect(procState(pid), `pid ${pid}`).toBe('gone');
    // the schedule it kept, given back: the same faults
    const kept = readFileSync(join(e.VSVA_STATE_DIR, 'chaos', readdirName(e.VSVA_STATE_DIR)), 'utf8');
    const again = await startCli(['chaos', FILE, '--engine', 'cluster', '--policy', 'v2', '--faults', 'kill,pause,redis,duplicate', '--runs', '1', '--seed', '3', '--json', '--schedule', writeTemp(kept)], env(), 240_000).done;
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, faults: s.faults });
  }, 480_000);

  it('Ctrl-C while a service is paused: the command resumes it and stops everything it started, and only that', async () => {
    // a pause of 20 s early in the run: the signal comes while the service is stopped
    const schedule = writeTemp(JSON.stringify({ version: 1, seed: 1, actions: [{ atSeq: 40, kind: 'pause', target: 'vfio-type1', forMs: 20_000 }] }));
    // a bystander: a process of the same user the command did not start, left alone
    const bystander = spawn('sleep', ['120'], { stdio: 'ignore' });
    const cli = startCli(['chaos', FILE, '--engine', 'cluster', '--policy', 'v2', '--faults', 'pause', '--runs', '1', '--schedule', schedule], env(), 120_000);
    await cli.waitFor(/chaos: a cluster of its own/, 90_000);
    const pids = startedPids(cli.stderr());
    expect(pids, cli.stderr()).toHaveLength(6);
    // until the nemesis has stopped one of them (bounded: the pause comes at log #40 of ~250)
    let paused: number[] = [];
    for (let i = 0; i < 300 && !paused.length; i++) {
      paused = pids.filter((p) => procState(p) === 'stopped');
      if (!paused.length) await new Promise((res) => setTimeout(res, 100));
    }
    expect(paused, cli.stderr()).toHaveLength(1);
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code === 130 || r.signal === 'SIGINT', `exit ${r.code} ${r.signal}: ${r.stderr}`).toBe(true);
    for (const pid of pids) expect(procState(pid), `pid ${pid}`).toBe('gone');
    expect(procState(bystander.pid!)).toBe('running');
    bystander.kill('SIGKILL');
  }, 180_000);

  it('a schedule that does not parse, or one given to the embedded engine: exit 2 naming what is wrong, nothing started', async () => {
    const bad = writeTemp(JSON.stringify({ version: 1, seed: 1, actions: [{ atSeq: -1, kind: 'kill', target: 'host-vtd' }] }));
    const r = await startCli(['chaos', FILE, '--engine', 'cluster', '--schedule', bad], env()).done;
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/atSeq/);
    expect(r.stderr).not.toContain('a cluster of its own');
    const emb = await startCli(['chaos', FILE, '--engine', 'embedded', '--schedule', bad], env()).done;
    expect(emb.code).toBe(2);
    expect(emb.stderr).toContain('--schedule is the cluster nemesis');
  }, 60_000);
});

function writeTemp(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'vsva-schedule-')), 'schedule.json');
  writeFileSync(f, text);
  return f;
}

function readdirName(stateDir: string): string {
  const names = readdirSync(join(stateDir, 'chaos')).filter((n) => n.endsWith('.schedule.json'));
  expect(names).toHaveLength(1);
  return names[0]!;
}
