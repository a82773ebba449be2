import { firstValueFrom } from 'rxjs';
import { BullMqClient, CHANNEL_CONCURRENCY, queueName } from '../../transport/src/index.js';
import { withFsync } from './bench-redis.js';
import { openPingPong, REPLY_CONCURRENCY } from './bullmq-pingpong.js';
import type { BenchContext, ClusterContext } from './context.js';
import { figure } from './figure.js';
import { interleavedTrial, sequentialTimes, type LatencySide, type LatencyTrial } from './latency-timing.js';
import { atMost, median, round } from './stats.js';
import type { Figure } from './types.js';

/** Each trial alternates this many blocks of transport and peer round trips. */
export const LATENCY_BLOCKS = 10;

/** The service under test: vfio-type1's control queue (what `status` and `waitHealthy` ask). */
export const LATENCY_TARGET = 'vfio-type1';

/**
 * One request/reply between two processes through the product's transport: the bench's BullMqClient
 * (a Nest ClientProxy) sends `health` to a service's control queue; the service's BullMqServer (Nest
 * custom transport) answers on the client's reply queue. Sequential: one request in flight.
 */
export async function openTransportLatency(ctx: BenchContext): Promise<LatencySide> {
  const client = new BullMqClient({ url: ctx.redis.url, prefix: ctx.redis.prefix, queue: queueName(LATENCY_TARGET, 'ctl'), service: LATENCY_TARGET, timeoutMs: 10_000 });
  await client.connect();
  return {
    sample: (n) => sequentialTimes(n, () => firstValueFrom(client.send('health', {}))),
    close: () => client.close(),
  };
}


/** 2. Hop latency: p50 and p99 of the transport's request/reply against raw BullMQ ping-pong, trials interleaved. */
export async function measureHopLatency(ctx: ClusterContext): Promise<Figure[]> {
  const lt = ctx.plan.latency;
  const pr = ctx.progress;
  const everysecToo = ctx.plan.throughput.everysecVariant;
  pr.phase('2. hop latency: health request/reply through the transport, raw BullMQ ping-pong; trials interleaved in blocks', lt.trials * 2 + (everysecToo ? 2 : 0));
  const cl = await openTransportLatency(ctx);
  const pe = await openPingPong(ctx);
  const cT: LatencyTrial[] = [];
  const pT: LatencyTrial[] = [];
  let everysec: { cluster: LatencyTrial; peer: LatencyTrial } | null = null;
  const show = (x: LatencyTrial) => `p50 ${x.p50.toFixed(2)} ms, p99 ${x.p99.toFixed(2)} ms`;
  try {
    await cl.sample(lt.warmup);
    await pe.sample(lt.warmup);
    for (let t = 0; t < lt.trials; t++) {
      const [a, b] = await interleavedTrial(cl, pe, lt.n, LATENCY_BLOCKS);
      cT.push(a);
      pr.tick(`transport ${show(a)}`);
      pT.push(b);
      pr.tick(`raw BullMQ ${show(b)}`);
    }
    if (everysecToo) {
      everysec = await withFsync(ctx.redis, 'everysec', async () => {
        const [a, b] = await interleavedTrial(cl, pe, lt.n, LATENCY_BLOCKS);
        pr.tick(`appendfsync everysec: transport ${show(a)}`);
        pr.tick(`appendfsync everysec: raw BullMQ ${show(b)}`);
        return { cluster: a, peer: b };
      });
    }
  } finally {
    await cl.close();
    await pe.close();
  }
  const config = {
    cluster: `BullMqClient (Nest ClientProxy) in the bench process sends 'health' to ${LATENCY_TARGET}'s control queue; the service's BullMqServer (Nest custom transport, concurrency ${CHANNEL_CONCURRENCY.ctl}) answers on the client's reply queue (reply Worker concurrency ${REPLY_CONCURRENCY}); ${lt.n} sequential requests per trial, in ${LATENCY_BLOCKS} blocks alternating with the peer's, after ${lt.warmup} untimed`,
    peer: `bare bullmq, two processes: the bench adds a ping job ({pattern, data, id, replyTo}, the transport's job options) to a queue consumed by a Worker in a forked process (concurrency ${CHANNEL_CONCURRENCY.ctl}), which adds a reply job to the bench's reply queue, consumed by a Worker here (concurrency ${REPLY_CONCURRENCY}) that resolves the waiting request; ${lt.n} sequential round trips per trial, in ${LATENCY_BLOCKS} blocks alternating with the transport's, after ${lt.warmup} untimed`,
  };
  const details = {
    meanMs: { cluster: round(median(cT.map((x) => x.mean))), peer: round(median(pT.map((x) => x.mean))) },
    ...(everysec ? {
      appendfsyncEverysec: {
        p50: { cluster: round(everysec.cluster.p50), peer: round(everysec.peer.p50), ratio: round(everysec.cluster.p50 / everysec.peer.p50) },
        p99: { cluster: round(everysec.cluster.p99), peer: round(everysec.peer.p99) },
        note: 'one trial each with the private Redis set to appendfsync everysec (the product runs with always)',
      },
    } : {}),
  };
  return [
    figure({ id: 'hop-latency-p50', name: 'hop latency p50: one request/reply between two services', unit: 'ms', trials: cT.map((x) => x.p50), peer: { name: 'raw BullMQ ping-pong between two processes, p50', trials: pT.map((x) => x.p50) }, goal: atMost(1.3), config, details }),
    figure({ id: 'hop-latency-p99', name: 'hop latency p99: one request/reply between two services', unit: 'ms', trials: cT.map((x) => x.p99), peer: { name: 'raw BullMQ ping-pong between two processes, p99', trials: pT.map((x) => x.p99) }, goal: null, config, details }),
  ];
}
