import type { NemesisKind } from './schedule.js';

/** A fault the nemesis injected, as the run's report shows it. */
export interface InjectedFault {
  kind: NemesisKind;
  /** the service, or `redis` */
  target: string;
  /** the run's log length when it acted (for a crash: the seq of the input it followed) */
  seq: number;
  /** since the run started */
  atMs: number;
  /** how long it lasted: a stop's length, or the time down before a restart */
  forMs?: number;
  /** what it did, in words: pids, the input delivered again, whether a crash caught a job mid-input */
  note?: string;
}
