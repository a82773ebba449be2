import { describe, expect, it } from 'vitest';
import { resolvePolicy, type LogEntry } from '../../libs/contracts/src/index.js';
import { checkDelivery } from '../../libs/chaos/src/index.js';
import { runEmbedded } from '../../libs/engine/src/index.js';
import { loadScenario } from '../../libs/scenario/src/index.js';

// The chaos checker's first question: did the infrastructure lose or double anything? Planted in a
// real run's log, each kind of loss and doubling is found and named.

const run = await runEmbedded({ runId: 'dc', scenario: loadScenario('scenarios/four-vms-two-parents-background.yaml'), policy: resolvePolicy('mainline'), seed: 2 });
const log = run.entries;
/** The log with its sequences renumbered from 1, as a log that never had the planted entry would be. */
const renumber = (es: LogEntry[]) => es.map((e, i) => ({ ...e, seq: i + 1 }));

describe('checkDelivery', () => {
  it('finds nothing in a whole run', () => {
    expect(checkDelivery(log)).toEqual({ lost: 0, duplicated: 0, problems: [] });
  });

  it('a consumption that never happened: the command is lost, named with its receiver', () => {
    const i = log.findIndex((e) => e.kind === 'input' && e.component === 'host-vtd' && e.seq > 200);
    const input = log[i]!;
    const r = checkDelivery(renumber([...log.slice(0, i), ...log.slice(i + 1)]));
    expect(r.lost).toBe(1);
    expect(r.problems[0]!.what).toContain(`command ${input.causationId}`);
    expect(r.problems[0]!.what).toContain('to host-vtd was never consumed');
  });

  it('an entry gone from the middle of the log: a hole in the sequence', () => {
    const r = checkDelivery(log.filter((e) => e.seq !== 300));
    expect(r.lost).toBeGreaterThanOrEqual(1);
    expect(r.problems.map((p) => p.what)).toContain('entries 300..300 are missing from the log');
  });

  it('a second marker for one input: consumed twice', () => {
    const input = log.find((e) => e.kind === 'input' && e.component === 'vfio-type1')!;
    const r = checkDelivery([...log, { ...input, seq: log.length + 1 }]);
    expect(r).toMatchObject({ lost: 0, duplicated: 1 });
    expect(r.problems[0]!.what).toBe(`vfio-type1 consumed ${input.causationId} (${input.type}) twice: at seq ${input.seq} and ${log.length + 1}`);
  });

  it('an output recorded twice, and an input no one sent', () => {
    const out = log.find((e) => e.kind === 'event' && e.seq > 100)!;
    const phantom = { ...log.find((e) => e.kind === 'input' && e.component === 'mdev-parent')!, eventId: 'in:nobody.1', causationId: 'nobody.1', seq: log.length + 2 };
    const r = checkDelivery([...log, { ...out, seq: log.length + 1 }, phantom]);
    expect(r.duplicated).toBe(2);
    expect(r.problems.map((p) => p.what)).toEqual([
      `${out.component}'s event ${out.eventId} (${out.type}) recorded twice: at seq ${out.seq} and ${log.length + 1}`,
      'mdev-parent consumed nobody.1, which no component recorded sending',
    ]);
  });
});
