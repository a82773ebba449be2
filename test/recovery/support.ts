import { expect } from 'vitest';
import type { Component, Envelope, LogEntry } from '../../libs/contracts/src/index.js';

/**
 * What a component did in a run, independent of how its inputs interleaved with other components'
 * (the global seq) and of wall-clock time: each input it consumed, in order, with its state hash and
 * the outputs it recorded. Two runs of one scenario, killed or not, must agree on it.
 */
export function projection(entries: readonly LogEntry[], component: Component) {
  const out: Array<{ input: Record<string, unknown>; outputs: Array<Record<string, unknown>> }> = [];
  for (const e of entries) {
    if (e.component !== component) continue;
    if (e.kind === 'input') {
      const env = e.payload as Envelope;
      out.push({ input: { eventId: e.eventId, type: e.type, from: env.from, payload: env.payload, lamport: e.lamport, stateHash: e.stateHash }, outputs: [] });
    } else {
      const last = out[out.length - 1];
      if (!last || e.causationId !== (last.input.eventId as string).slice(3)) throw new Error(`output ${e.eventId} (seq ${e.seq}) does not follow its input`);
      last.outputs.push({ eventId: e.eventId, kind: e.kind, type: e.type, to: e.to, payload: e.payload, lamport: e.lamport });
    }
  }
  return out;
}

/** Every input recorded once, under exactly one marker that points at it; no event id twice. */
export function expectEachInputOnce(entries: readonly LogEntry[], marks: Record<string, string>): void {
  const ids = entries.map((e) => `${e.component}|${e.eventId}`);
  expect(new Set(ids).size, 'an event id appears twice in the log').toBe(ids.length);
  const inputs = entries.filter((e) => e.kind === 'input');
  for (const e of inputs) {
    const mark = marks[`${e.component}|${(e.payload as Envelope).id}`];
    expect(mark?.split(',')[0], `marker of input ${e.component}|${e.eventId}`).toBe(String(e.seq));
  }
  expect(Object.keys(marks).length, 'markers without an input, or inputs without a marker').toBe(inputs.length);
}
