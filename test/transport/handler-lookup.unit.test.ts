import { describe, expect, it } from 'vitest';
import type { MessageHandler } from '@nestjs/microservices';
import { BullMqServer } from '../../libs/transport/src/index.js';

// Issue 14 point 3: a job's handler is resolved once per pattern (Nest's lookup JSON-parses the pattern,
// and throws on a plain string, for every job), and a pattern the client made up is not remembered.

const server = () => new BullMqServer({ url: 'redis://127.0.0.1:1', prefix: 'unit', queues: [{ name: 'vsva.unit', concurrency: 1 }] });
const handler = (): MessageHandler => Object.assign(async () => undefined, { isEventHandler: true }) as unknown as MessageHandler;

describe('BullMqServer handler lookup', () => {
  it('finds the handler of a pattern, the same one each time, and Nest\'s lookup only the first time', () => {
    const s = server();
    const h = handler();
    s.addHandler('iommu_sva_bind_gpasid', h, true);
    // Nest's own lookup (protected), counted
    let nestLookups = 0;
    const open = s as unknown as { getRouteFromPattern(p: string): string };
    const route = open.getRouteFromPattern.bind(s);
    open.getRouteFromPattern = (p: string) => (nestLookups++, route(p));
    expect(s.getHandlerByPattern('iommu_sva_bind_gpasid')).toBe(h);
    expect(s.getHandlerByPattern('iommu_sva_bind_gpasid')).toBe(h);
    expect(nestLookups).toBe(1);
  });

  it('does not remember a pattern without a handler: one added later is found', () => {
    const s = server();
    expect(s.getHandlerByPattern('late')).toBeNull();
    const h = handler();
    s.addHandler('late', h, true);
    expect(s.getHandlerByPattern('late')).toBe(h);
  });
});
