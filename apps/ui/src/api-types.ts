// What the dashboard's JSON endpoints return that its browser script reads. No import: the client's
// build (tsconfig.client.json, DOM only) compiles this file and nothing of the server.

/** One named part of a component's state, as the run page shows it (JSON, rendered as text). */
export interface StateSection {
  title: string;
  value: unknown;
}

/** A component at a point of the run: the last input it consumed up to there, and its state after it. */
export interface ComponentAt {
  component: string;
  lane: string;
  /** the input it consumed last (null: none yet) */
  consumed: { seq: number; type: string; brief: string } | null;
  inputs: number;
  sections: StateSection[];
}

/** GET /api/runs/:id/state?seq=N: the entry at N and each component's state right after it was written. */
export interface StateAt {
  seq: number;
  entry: { seq: number } | null;
  components: ComponentAt[];
}

/** An `entries` event of GET /api/runs/:id/follow. */
export interface FollowBatch {
  last: number;
  entries: Array<{ seq: number }>;
}
