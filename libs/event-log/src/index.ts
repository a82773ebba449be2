export type { RunLog, RunMeta, AppendResult, InputAppendResult } from './run-log.js';
export {
  RUN_STATES,
  RunClosedError,
  gateInput,
  gateRaw,
  proves,
  type RunState,
  type Refusal,
  type InputGate,
  type CommandProof,
  type GateVerdict,
} from './run-state.js';
export { withSeq } from './entry-codec.js';
export { DEFAULT_PAGE_SIZE, hasAppendMany, type AppendBatch, type BatchRunLog } from './batch.js';
export { DEFAULT_PREFIX, ORPHAN_RUN_ID, runKeys, runsIndexKey, assertRunId, isRunId, type RunKeys } from './keys.js';
export { APPEND_ONCE_LUA, OPEN_RUN_LUA } from './append-once.lua.js';
export { RedisRunLog, type RedisRunLogOptions } from './redis-run-log.js';
export { MemoryRunLog, type MemoryRunLogOptions } from './memory-run-log.js';
export { RunMetaSchema, ResolvedPolicySchema } from './run-meta.js';
export {
  writeNdjson,
  readNdjson,
  openNdjson,
  exportRun,
  importRun,
  ExportHeaderSchema,
  NdjsonError,
  RunExistsError,
  RunLiveError,
  type ExportHeader,
  type NdjsonReader,
  type ImportOptions,
} from './ndjson.js';
export { RedisSnapshotStore, snapshotKey, type Snapshot, type SnapshotStore } from './snapshots.js';
export { MemorySnapshotStore } from './memory-snapshot-store.js';
