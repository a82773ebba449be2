import { describe, expect, it } from 'vitest';
import {
  ClientClosedError,
  RemoteError,
  RequestTimeoutError,
  TransportConfigError,
  fromWireError,
  parseJobPacket,
  queueName,
  dataQueues,
  partitionOf,
  toBullJobId,
  toWireError,
} from '../../libs/transport/src/index.js';

describe('job packets', () => {
  it('accepts requests and events, rejects the rest with a reason naming the field', () => {
    expect(parseJobPacket({ pattern: 'bind', data: { pasid: 1 }, id: 'r1', replyTo: 'q.reply' })).toEqual({
      ok: true,
      packet: { pattern: 'bind', data: { pasid: 1 }, id: 'r1', replyTo: 'q.reply' },
    });
    expect(parseJobPacket({ pattern: 'note', data: 1 })).toMatchObject({ ok: true, packet: { pattern: 'note', data: 1 } });
    const bad = parseJobPacket({ nope: 1 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/^pattern: /);
    expect(parseJobPacket({ pattern: 'x', data: 1, id: 'r1' })).toMatchObject({ ok: false, reason: expect.stringContaining('replyTo') });
    expect(parseJobPacket({ pattern: 'x', data: 1, replyTo: 'q' })).toMatchObject({ ok: false, reason: expect.stringContaining('id') });
    expect(parseJobPacket({ pattern: 'x', data: 1, id: 'r', replyTo: 'a:b' })).toMatchObject({ ok: false });
    expect(parseJobPacket(null)).toMatchObject({ ok: false });
  });
});

describe('job ids', () => {
  it('are accepted by BullMQ and stay distinct', () => {
    const ids = ['a:b', 'a%3Ab', 'a_b', '42', '%I42', 'run-1:vm-2:evt-3', '1:2:3', 'plain'];
    const encoded = ids.map(toBullJobId);
    expect(new Set(encoded).size).toBe(ids.length);
    for (const e of encoded) {
      expect(e).not.toContain(':');
      expect(`${parseInt(e!, 10)}`).not.toBe(e);
    }
    expect(toBullJobId('plain')).toBe('plain');
    expect(toBullJobId(undefined)).toBeUndefined();
    expect(toBullJobId('')).toBeUndefined();
  });
});

describe('queue names', () => {
  it('data partitions and control queue of a service', () => {
    // in braces: a Redis Cluster hash tag, every key of one queue in one slot
    expect(queueName('vfio-type1')).toBe('{vsva.vfio-type1.p0}');
    expect(queueName('vfio-type1', 'data', 3)).toBe('{vsva.vfio-type1.p3}');
    expect(queueName('vfio-type1', 'ctl')).toBe('{vsva.vfio-type1.ctl}');
    expect(dataQueues('host-vtd', 2)).toEqual(['{vsva.host-vtd.p0}', '{vsva.host-vtd.p1}']);
    expect(() => queueName('a:b')).toThrow(TransportConfigError);
    expect(() => queueName('')).toThrow(TransportConfigError);
    expect(() => queueName('host-vtd', 'data', 64)).toThrow(/partition 64/);
    expect(() => queueName('host-vtd', 'data', 1.5)).toThrow(TransportConfigError);
  });

  it('a run goes to one partition, the same in every process, and runs spread over all of them', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `run-${i.toString(36)}-x`);
    const counts = [0, 0, 0, 0];
    for (const id of ids) {
      const p = partitionOf(id, 4);
      expect(partitionOf(id, 4)).toBe(p);
      counts[p]!++;
    }
    // FNV-1a spreads sequential ids: no partition gets less than half its share
    for (const n of counts) expect(n).toBeGreaterThan(50);
    expect(partitionOf('anything', 1)).toBe(0);
    // FNV-1a("a") is 0xe40c292c: a change of the hash would strand jobs an older version queued
    expect(partitionOf('a', 64)).toBe(0xe40c292c % 64);
  });
});

describe('errors', () => {
  it('name the pattern and the service', () => {
    expect(new RequestTimeoutError('health', 'vfio-type1', 200).message).toBe(
      "request 'health' to service 'vfio-type1' timed out after 200 ms",
    );
    expect(new ClientClosedError('bind', 'host-vtd').message).toContain('client closed');
    expect(new RequestTimeoutError('a', 'b', 1).name).toBe('RequestTimeoutError');
  });

  it('cross the wire as JSON without a stack, and come back as RemoteError', () => {
    const wire = toWireError(new Error('boom'));
    expect(wire).toEqual({ status: 'error', message: 'boom', name: 'Error' });
    expect(JSON.stringify(wire)).not.toContain('stack');
    expect(toWireError({ status: 'error', message: 'x', stack: 'at …' })).toEqual({ status: 'error', message: 'x' });
    const back = fromWireError({ status: 'error', message: 'boom' }, 'bind', 'host-vtd');
    expect(back).toBeInstanceOf(RemoteError);
    expect(back).toMatchObject({ message: 'boom', pattern: 'bind', service: 'host-vtd', status: 'error' });
    expect(fromWireError('text', 'p', 's').message).toBe('text');
  });
});
