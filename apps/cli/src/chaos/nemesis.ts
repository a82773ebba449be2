import { Queue } from 'bullmq';
import { isComponent, type Component, type Envelope } from '../../../../libs/contracts/src/index.js';
import { DELIVER, runQueue } from '../../../../libs/cluster/src/index.js';
import { loadConfig } from '../../../../libs/config/src/index.js';
import { runKeys } from '../../../../libs/event-log/src/index.js';
import { BullMqClient } from '../../../../libs/transport/src/index.js';
import { NEMESIS_TIMING, type InjectedFault, type NemesisAction, type NemesisSchedule } from '../../../../libs/chaos/src/index.js';
import type { LogFollower } from './log-follower.js';
import type { OwnedCluster } from './owned-cluster.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const middle = (r: readonly [number, number]) => Math.round((r[0] + r[1]) / 2);

/**
 * Acts a schedule on a run of the cluster it owns (the safety phase): each action once the log
 * reaches its position, one at a time, in log order, so that a schedule replays as closely as real
 * processes allow. An action whose position the run never reaches is `missed`. What it breaks it
 * mends itself (a restart, a SIGCONT) before the next action; heal() is the backstop.
 */
export class Nemesis {
  readonly injected: InjectedFault[] = [];
  readonly missed: NemesisAction[] = [];
  private duplicates = 0;

  constructor(
    private readonly cluster: OwnedCluster,
    private readonly follower: LogFollower,
    private readonly runId: string,
    private readonly t0: number,
    private readonly onFault?: (f: InjectedFault) => void,
  ) {}

  async act(schedule: NemesisSchedule): Promise<void> {
    for (const a of schedule.actions) {
      const done = a.kind === 'crash' ? await this.crash(a) : (await this.follower.reach(a.atSeq)) && (await this.at(a));
      if (!done) this.missed.push(a);
    }
  }

  /** `note` says how long the fault lasted, when it did. */
  private record(a: NemesisAction, seq: number, at: number, note: string): true {
    const f: InjectedFault = { kind: a.kind, target: a.target, seq, atMs: at - this.t0, note };
    this.injected.push(f);
    this.onFault?.(f);
    return true;
  }

  private async at(a: NemesisAction): Promise<boolean> {
    const seq = this.follower.last;
    const at = Date.now();
    if (a.kind === 'redis') {
      const pid = await this.cluster.killRedis();
      if (a.forMs) await sleep(a.forMs);
      const next = await this.cluster.restartRedis();
      const repaired = this.cluster.redisRepaired;
      return this.record(a, seq, at, `redis-server ${pid} SIGKILLed, ${downFor(a)}${next} started on port ${this.cluster.redisPort} from its append-only file${repaired ? ` (torn by the kill: ${repaired})` : ''}`);
    }
    const c = service(a);
    switch (a.kind) {
      case 'kill': {
        const pid = await this.cluster.kill(c);
        if (a.forMs) await sleep(a.forMs);
        const next = await this.cluster.restart(c);
        return this.record(a, seq, at, `pid ${pid} SIGKILLed, ${downFor(a)}${next} started`);
      }
      case 'pause':
      case 'delay': {
        const ms = a.forMs ?? middle(a.kind === 'pause' ? NEMESIS_TIMING.pauseMs : NEMESIS_TIMING.delayMs);
        const pid = this.cluster.pause(c);
        await sleep(ms);
        this.cluster.resume(c);
        return this.record(a, seq, at, `pid ${pid} SIGSTOPped for ${ms} ms (job lock ${NEMESIS_TIMING.lockMs} ms), then SIGCONT`);
      }
      case 'disconnect': {
        const n = await this.cluster.dropConnections(c);
        return this.record(a, seq, at, `${n} Redis connection(s) of pid ${this.cluster.service(c).pid} closed (CLIENT KILL)`);
      }
      case 'duplicate':
        return this.duplicate(a, c, seq, at);
      default:
        throw new Error(`no nemesis action for ${a.kind}`);
    }
  }

  /** An input the service consumed, delivered again under a new job id: it must find its marker and re-send, not decide again. */
  private async duplicate(a: NemesisAction, c: Component, seq: number, at: number): Promise<boolean> {
    const input = this.follower.lastInput(c) ?? (await this.follower.nextInput(c, 1));
    if (!input) return false;
    const env = input.payload as Envelope;
    const jobId = `${env.runId}.${env.id}.dup${++this.duplicates}`;
    const { redisUrl: url, prefix } = this.cluster.cfg;
    const client = new BullMqClient({ url, prefix, queue: await this.queueOf(c), service: c, jobIdOf: () => jobId, timeoutMs: 10_000 });
    try {
      await client.dispatchEvent({ pattern: DELIVER, data: env });
    } finally {
      await client.close();
    }
    return this.record(a, seq, at, `input seq ${input.seq} (${input.type}, ${input.eventId}) delivered again as job ${jobId}`);
  }

  /** SIGKILL right after the service records an input, then a restart: the crash falls inside that input's job when it is quick enough. */
  private async crash(a: NemesisAction): Promise<boolean> {
    const c = service(a);
    const input = await this.follower.nextInput(c, Math.max(a.atSeq, this.follower.last + 1));
    if (!input) return false;
    const at = Date.now();
    const pid = await this.cluster.kill(c);
    const held = await this.heldJobs(c);
    if (a.forMs) await sleep(a.forMs);
    const next = await this.cluster.restart(c);
    const mid = held.filter((j) => j.recorded);
    const where = mid.length ? `mid-input: it held ${mid.map((j) => j.envelopeId).join(', ')}, recorded and redelivered to the new process` : 'between inputs: the job of the input had completed';
    return this.record(a, input.seq, at, `pid ${pid} SIGKILLed after recording input seq ${input.seq} (${input.type}), ${where}; ${downFor(a)}${next} started`);
  }

  /** The partition of the component's data queue that holds this run's inputs. */
  private queueOf(c: Component): Promise<string> {
    return runQueue(this.cluster.admin, this.cluster.cfg.prefix, c, this.runId, loadConfig().partitions);
  }

  /** The data-queue jobs a dead service held, and whether each one's input is recorded (its marker). */
  private async heldJobs(c: Component): Promise<Array<{ envelopeId: string; recorded: boolean }>> {
    const { redisUrl: url, prefix } = this.cluster.cfg;
    const q = new Queue(await this.queueOf(c), { connection: { url }, prefix });
    q.on('error', () => {});
    try {
      const active = await q.getActive();
      const marks = runKeys(this.runId, prefix).marks;
      return Promise.all(active.map(async (j) => {
        const env = (j.data as { data: Envelope }).data;
        return { envelopeId: env.id, recorded: (await this.cluster.admin.hexists(marks, `${c}|${env.id}`)) === 1 };
      }));
    } catch {
      return [];
    } finally {
      await q.close().catch(() => {});
    }
  }
}

const downFor = (a: NemesisAction) => (a.forMs ? `down for ${a.forMs} ms, ` : '');

function service(a: NemesisAction): Component {
  if (!isComponent(a.target)) throw new Error(`a ${a.kind} needs a service as its target, got ${a.target}`);
  return a.target;
}
