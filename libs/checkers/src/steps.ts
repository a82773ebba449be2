import type { StepCompleted } from '../../contracts/src/index.js';
import { prgKey, type Checker } from './types.js';

/** A step named as the timeline and the outcomes name it (engine/timeline.ts stepLabel): `steps[2] plan[7] (bind)`. */
const label = (c: StepCompleted) => {
  const plan = `plan[${c.step}]`;
  if (c.phase === 'setup' || c.scenarioIndex === null) return `setup ${plan} (${c.op})`;
  return `${c.phase === 'workload' ? 'workload' : 'steps'}[${c.scenarioIndex}] ${plan} (${c.op})`;
};

/** Each step's outcome is the one the scenario expects under the run's preset. */
export const expectedOutcome: Checker = {
  name: 'expected-outcome',
  check(h) {
    return h.events('orchestrator', 'step.completed')
      .filter((e) => !e.payload.asExpected)
      .map((e) => {
        const c = e.payload;
        return { invariant: 'expected-outcome', message: `${label(c)} returned ${c.got}, the scenario expects ${c.expected}`, events: [e.seq] };
      });
  },
};

/**
 * Every command gets a completion: no step hangs the run (DOMAIN.md §6 `liveness`). Two waits are
 * the scenario's, not the kernel's (as page-response excuses their requests):
 * - a device step that waits on a page request still in the page request queue, the PRQ interrupt
 *   held (host.prq_irq manual) and no pass of prq_event_thread since it was queued;
 * - a DMA that waits on the page response to a fault the host reported to a guest that keeps its
 *   faults (page_requests: ignore).
 */
export const liveness: Checker = {
  name: 'liveness',
  check(h) {
    const held = heldAtTimeout(h);
    const kept = keptByGuest(h);
    return h.events('orchestrator', 'step.completed')
      .filter((e) => e.payload.outcome.timeout && !held.has(e.seq) && !kept.has(e.seq))
      .map((e) => ({ invariant: 'liveness', message: `${label(e.payload)} never completed`, events: h.chain(e) }));
  },
};

/** The timed-out device steps (by their step.completed seq) during which a page request sat in a held PRQ. */
function heldAtTimeout(h: Parameters<Checker['check']>[0]): Set<number> {
  const out = new Set<number>();
  let queued = 0;
  const device = new Map<number, boolean>();
  for (const e of h.entries) {
    if (e.kind !== 'event') continue;
    if (e.component === 'host-vtd' && e.type === 'prq.queued') queued++;
    else if (e.component === 'host-vtd' && e.type === 'prq.pass_done') queued = 0;
    // a device step, or a quiesce waiting for the workload's device steps
    else if (e.component === 'orchestrator' && e.type === 'step.started') device.set(e.payload.step, e.payload.target === 'mdev-parent' || e.payload.op === 'quiesce');
    else if (e.component === 'orchestrator' && e.type === 'step.completed' && e.payload.outcome.timeout && queued > 0 && device.get(e.payload.step)) out.add(e.seq);
  }
  return out;
}

/**
 * The timed-out DMA steps (by their step.completed seq) waiting on a fault their guest keeps
 * unanswered, and the quiesce steps waiting for such a DMA of the workload.
 */
function keptByGuest(h: Parameters<Checker['check']>[0]): Set<number> {
  const out = new Set<number>();
  // the DMAs waiting for a page response (by their tag: the step they serve, the (RID, PASID, PRG)
  // they wait on), and the faults guests keep pending
  const waiting = new Map<string, { step: number; key: string }>();
  const kept = new Set<string>();
  for (const e of h.entries) {
    if (e.kind !== 'event') continue;
    if (e.component === 'mdev-parent' && e.type === 'dma.waiting_prg') waiting.set(e.payload.tag, { step: e.payload.dma.step, key: e.payload.key });
    else if (e.component === 'mdev-parent' && e.type === 'dma.resumed') waiting.delete(e.payload.tag);
    else if (e.component === 'guest-viommu' && e.type === 'guest_fault.pending') kept.add(prgKey(e.payload));
    else if (e.component === 'mdev-parent' && e.type === 'page_response.received') kept.delete(prgKey(e.payload));
    else if (e.component === 'orchestrator' && e.type === 'step.completed' && e.payload.outcome.timeout) {
      const c = e.payload;
      if ([...waiting.values()].some((w) => kept.has(w.key) && (w.step === c.step || c.op === 'quiesce'))) out.add(e.seq);
    }
  }
  return out;
}
