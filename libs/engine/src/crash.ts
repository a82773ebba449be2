import type { Envelope, NewLogEntry } from '../../contracts/src/index.js';
import { MemoryRunLog, type InputAppendResult, type InputGate } from '../../event-log/src/index.js';
import type { Outbox } from '../../runtime/src/index.js';
import type { ChannelQueue } from './channel-queue.js';
import type { CrashPoint } from './faults.js';

/** A component process dying at `point`: what the host's delivery rejects with. */
export class ComponentCrash extends Error {
  constructor(readonly point: CrashPoint) {
    super(`component crashed ${point}`);
    this.name = 'ComponentCrash';
  }
}

/** Armed by the scheduler for one delivery: the host dies when it reaches the armed point. */
export class CrashSwitch {
  armed?: CrashPoint;

  trip(at: CrashPoint): void {
    if (this.armed !== at) return;
    this.armed = undefined;
    throw new ComponentCrash(at);
  }
}

/**
 * The embedded engine's run log: the memory log (entries kept as plain objects, no JSON round trip:
 * what it holds was built by processInput in this process) whose data-plane append first asks the
 * crash switch, so a host can die after deciding and before anything is recorded.
 */
export class CrashableRunLog extends MemoryRunLog {
  constructor(private readonly crash: CrashSwitch) {
    super({ clone: false });
  }

  override async appendInput(runId: string, markerId: string, entries: NewLogEntry[], gate: InputGate): Promise<InputAppendResult> {
    this.crash.trip('before-append');
    const r = this.appendInputSync(runId, markerId, entries, gate);
    // durable, and the answer lost on its way back
    this.crash.trip('reply-lost');
    return r;
  }
}

/** The hosts' outbox over the queue: a host can die before its first send or right after it. */
export function crashableOutbox(queue: ChannelQueue, crash: CrashSwitch): Outbox {
  return {
    send: (e: Envelope) => queue.send(e),
    async sendAll(es: Envelope[]): Promise<void> {
      crash.trip('before-send');
      for (const e of es) {
        queue.add(e);
        crash.trip('mid-send');
      }
      // nothing to send: right after the append
      crash.trip('mid-send');
    },
  };
}
