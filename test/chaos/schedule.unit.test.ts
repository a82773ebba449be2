import { describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../libs/contracts/src/index.js';
import { drawSchedule, NEMESIS_KINDS, NEMESIS_TIMING, parseSchedule, ScheduleError, type NemesisKind } from '../../libs/chaos/src/index.js';

// The nemesis's schedule is pure: a function of (seed, rates, entries), and a file that replays it.

const all = (p: number) => Object.fromEntries(NEMESIS_KINDS.map((k) => [k, p])) as Record<NemesisKind, number>;

describe('drawSchedule', () => {
  it('is a function of the seed', () => {
    const o = { entries: 3000 };
    expect(drawSchedule(7, all(0.002), o)).toEqual(drawSchedule(7, all(0.002), o));
    expect(drawSchedule(7, all(0.002), o)).not.toEqual(drawSchedule(8, all(0.002), o));
    expect(drawSchedule(7, all(0.002), o).seed).toBe(7);
  });

  it('gives each kind asked for at least once an action inside the run, and nothing else when no rate fires', () => {
    for (const seed of [1, 2, 3, 99, 123456]) {
      const s = drawSchedule(seed, {}, { entries: 1000, atLeastOnce: [...NEMESIS_KINDS] });
      expect(s.actions.map((a) => a.kind).sort()).toEqual([...NEMESIS_KINDS].sort());
      for (const a of s.actions) {
        expect(a.atSeq).toBeGreaterThanOrEqual(50);
        expect(a.atSeq).toBeLessThanOrEqual(900);
      }
      expect(drawSchedule(seed, {}, { entries: 1000, atLeastOnce: ['kill'] }).actions.map((a) => a.kind)).toEqual(['kill']);
    }
  });

  it('keeps what the rates drew, adding only the kinds they missed', () => {
    const drawn = drawSchedule(5, { kill: 0.01 }, { entries: 2000 });
    expect(drawn.actions.length).toBeGreaterThan(5);
    const filled = drawSchedule(5, { kill: 0.01 }, { entries: 2000, atLeastOnce: ['kill', 'redis'] });
    expect(filled.actions.filter((a) => a.kind === 'kill')).toEqual(drawn.actions);
    expect(filled.actions.filter((a) => a.kind === 'redis')).toHaveLength(1);
  });

  it('draws valid targets from the seed, every service among them, and lengths that keep a pause a pause and a delay a delay', () => {
    const s = drawSchedule(11, all(0.01), { entries: 3000 });
    expect(new Set(s.actions.map((a) => a.kind))).toEqual(new Set(NEMESIS_KINDS));
    for (const a of s.actions) {
      if (a.kind === 'redis') expect(a.target).toBe('redis');
      else expect(COMPONENTS).toContain(a.target);
      if (a.kind === 'pause') expect(a.forMs).toBeGreaterThan(NEMESIS_TIMING.lockMs);
      else if (a.kind === 'delay') expect(a.forMs).toBeLessThan(NEMESIS_TIMING.lockMs / 2);
      else expect(a.forMs).toBeUndefined();
    }
    expect(new Set(s.actions.filter((a) => a.kind === 'kill').map((a) => a.target))).toEqual(new Set(COMPONENTS));
    const seqs = s.actions.map((a) => a.atSeq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it("leaves one kind's actions where they were when another kind is turned on", () => {
    const alone = drawSchedule(21, { pause: 0.005 }, { entries: 2000 });
    const withKills = drawSchedule(21, { pause: 0.005, kill: 0.02, redis: 0.01 }, { entries: 2000 });
    expect(withKills.actions.filter((a) => a.kind === 'pause')).toEqual(alone.actions);
  });

  it('refuses a rate outside [0, 1], an unknown kind and a run without entries', () => {
    expect(() => drawSchedule(1, { kill: 1.5 }, { entries: 10 })).toThrow(/rates\.kill must be a probability/);
    expect(() => drawSchedule(1, { nap: 0.1 } as never, { entries: 10 })).toThrow(/unknown fault kind 'nap' \(accepted: kill, pause/);
    expect(() => drawSchedule(1, {}, { entries: 0 })).toThrow(/entries must be a positive integer/);
  });
});

describe('parseSchedule', () => {
  const file = 'sched.json';
  const bad = (doc: unknown) => {
    try {
      parseSchedule(typeof doc === 'string' ? doc : JSON.stringify(doc), file);
    } catch (e) {
      expect(e).toBeInstanceOf(ScheduleError);
      return e as ScheduleError;
    }
    throw new Error('parsed');
  };
  const one = (a: Record<string, unknown>) => ({ version: 1, seed: 1, actions: [{ atSeq: 10, kind: 'kill', target: 'host-vtd' }, a] });

  it('reads back what drawSchedule wrote', () => {
    const s = drawSchedule(3, all(0.003), { entries: 2000, atLeastOnce: [...NEMESIS_KINDS] });
    expect(parseSchedule(JSON.stringify(s, null, 2), file)).toEqual(s);
  });

  it('orders the actions by log position', () => {
    const s = parseSchedule(JSON.stringify({ version: 1, seed: 4, actions: [{ atSeq: 30, kind: 'redis', target: 'redis' }, { atSeq: 5, kind: 'duplicate', target: 'vfio-type1' }] }), file);
    expect(s.actions.map((a) => a.atSeq)).toEqual([5, 30]);
  });

  it('bad JSON: names the file and says what is accepted', () => {
    const e = bad('{ "version": 1, ');
    expect(e.field).toBe('(file)');
    expect(e.message).toMatch(/^sched\.json: \(file\): not JSON .*accepted: a JSON object/);
  });

  it('an unknown kind: names the field and lists the kinds', () => {
    const e = bad(one({ atSeq: 20, kind: 'nap', target: 'host-vtd' }));
    expect(e.field).toBe('actions[1].kind');
    expect(e.message).toContain(`accepted: ${NEMESIS_KINDS.join(', ')}`);
  });

  it('a negative or fractional atSeq', () => {
    expect(bad(one({ atSeq: -3, kind: 'kill', target: 'host-vtd' })).field).toBe('actions[1].atSeq');
    expect(bad(one({ atSeq: 2.5, kind: 'kill', target: 'host-vtd' })).message).toMatch(/atSeq: got 2\.5; accepted: a positive integer/);
  });

  it('a target that the kind cannot have', () => {
    expect(bad(one({ atSeq: 20, kind: 'redis', target: 'host-vtd' })).message).toMatch(/actions\[1\]\.target: .*accepted: 'redis'/);
    expect(bad(one({ atSeq: 20, kind: 'pause', target: 'redis' })).message).toContain(`accepted: ${COMPONENTS.join(', ')}`);
  });

  it('a pause within the lock, a delay past half of it, a duplicate that lasts', () => {
    expect(bad(one({ atSeq: 20, kind: 'pause', target: 'vfio-type1', forMs: 500 })).message).toMatch(/forMs: .*longer than the job lock/);
    expect(bad(one({ atSeq: 20, kind: 'delay', target: 'vfio-type1', forMs: 5000 })).message).toMatch(/forMs: .*'pause'/);
    expect(bad(one({ atSeq: 20, kind: 'duplicate', target: 'vfio-type1', forMs: 10 })).field).toBe('actions[1].forMs');
  });

  it('a wrong version, a missing seed, an unknown field', () => {
    expect(bad({ version: 2, seed: 1, actions: [] }).field).toBe('version');
    expect(bad({ version: 1, actions: [] }).field).toBe('seed');
    expect(bad(one({ atSeq: 20, kind: 'kill', target: 'host-vtd', when: 3 })).field).toBe('actions[1].when');
    expect(bad({ version: 1, seed: 1, actions: {} }).field).toBe('actions');
  });
});
