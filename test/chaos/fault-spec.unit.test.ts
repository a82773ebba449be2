import { describe, expect, it } from 'vitest';
import { drawRunFaults, faultsArg, FaultSpecError, kindsFor, parseFaults } from '../../libs/chaos/src/index.js';

describe('--faults', () => {
  it('takes groups, kinds and probabilities; all means what the engine can inject', () => {
    expect(Object.keys(parseFaults('all', 'embedded').kinds).sort()).toEqual(kindsFor('embedded').sort());
    expect(kindsFor('embedded')).not.toContain('kill');
    expect(Object.keys(parseFaults('all', 'cluster').kinds)).toContain('kill');
    expect(parseFaults('kill,pause=0.25,redis', 'cluster')).toEqual({ engine: 'cluster', kinds: { kill: undefined, pause: 0.25, redis: undefined }, swarm: false });
    expect(parseFaults('device,swarm', 'embedded')).toMatchObject({ swarm: true, kinds: { ite: undefined, 'surprise-removal': undefined } });
    expect(parseFaults('none', 'embedded').kinds).toEqual({});
  });

  it('refuses an unknown fault, a probability outside [0, 1] and a process fault in the embedded engine, listing what is accepted', () => {
    for (const [text, msg] of [
      ['kil', "unknown fault 'kil'"],
      ['duplicate=1.5', 'duplicate=1.5: a probability is a number from 0 to 1'],
      ['delay=-0.1', 'a probability is a number from 0 to 1'],
      ['delay=abc', 'a probability is a number from 0 to 1'],
      ['kill', "'kill' is a process fault: the cluster engine only (this is --engine embedded)"],
      ['', 'names no fault'],
      ['swarm=0.2', "'swarm' takes no probability"],
    ] as const) {
      const e = (() => { try { parseFaults(text, 'embedded'); } catch (err) { return err; } })();
      expect(e, text).toBeInstanceOf(FaultSpecError);
      expect((e as Error).message, text).toContain(msg);
      expect((e as Error).message, text).toContain('Accepted in --faults');
      expect((e as Error).message, text).toContain('surprise-removal');
    }
  });
});

describe("a run's faults", () => {
  it('are a function of the seed, and the --faults list they print gives them again', () => {
    const spec = parseFaults('all,swarm', 'embedded');
    for (let seed = 1; seed < 40; seed++) {
      const f = drawRunFaults(spec, seed);
      expect(drawRunFaults(spec, seed)).toEqual(f);
      expect(Object.keys(f.rates).length).toBeGreaterThan(0);
      expect(drawRunFaults(parseFaults(faultsArg(f), 'embedded'), seed)).toEqual(f);
    }
  });

  it('swarm: runs differ in which kinds are on and at what rate', () => {
    const spec = parseFaults('all,swarm', 'embedded');
    const sets = new Set(Array.from({ length: 30 }, (_, s) => Object.keys(drawRunFaults(spec, s).rates).sort().join(',')));
    expect(sets.size).toBeGreaterThan(10);
    const rates = new Set(Array.from({ length: 30 }, (_, s) => drawRunFaults(spec, s).rates.duplicate).filter((r) => r !== undefined));
    expect(rates.size).toBeGreaterThan(5);
  });

  it('without swarm: a named kind with no probability fires at its default rate (delivery) or once (device)', () => {
    expect(drawRunFaults(parseFaults('duplicate,ite,crash=0.5', 'embedded'), 7).rates).toEqual({ duplicate: 0.05, ite: 'once', crash: 0.5 });
    // the cluster's nemesis acts one fault at a time, each for seconds: a kind named alone fires once
    expect(drawRunFaults(parseFaults('duplicate,kill,crash=0.001', 'cluster'), 7).rates).toEqual({ duplicate: 'once', kill: 'once', crash: 0.001 });
  });
});
