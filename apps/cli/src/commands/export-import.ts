import { VERSION } from '../version.js';
import { usage } from '../errors.js';
import { openClusterLog } from './log-source.js';

const say = (s: string) => process.stderr.write(`${s}\n`);

/** A run's log from Redis to NDJSON: a header line, then one entry per line. */
export async function exportCommand(runId: string, out: string): Promise<number> {
  const { exportRun } = await import('../../../../libs/event-log/src/index.js');
  const { log } = await openClusterLog();
  try {
    if ((await log.length(runId)) === 0) throw usage(`no run '${runId}' in Redis: nothing to export`);
    const h = await exportRun(log, runId, out, VERSION);
    say(`exported ${h.entries} entries of ${runId} (${h.scenario.name}, policy ${h.policy.preset}) to ${out}`);
    return 0;
  } finally {
    await log.close();
  }
}

/** An NDJSON export back into Redis, under its own run id. */
export async function importCommand(file: string, replace: boolean): Promise<number> {
  const { importRun, NdjsonError, RunExistsError, RunLiveError } = await import('../../../../libs/event-log/src/index.js');
  const { log } = await openClusterLog();
  try {
    const r = await importRun(log, file, { replace });
    say(`imported ${r.entries} entries as run ${r.header.runId}; 'vsva-sim replay ${r.header.runId}' re-folds it`);
    return 0;
  } catch (e) {
    if (e instanceof NdjsonError) throw usage(e.message);
    if (e instanceof RunExistsError) throw usage(`${(e as Error).message} (--replace overwrites it)`);
    if (e instanceof RunLiveError) throw usage(`${(e as Error).message}; wait for it to finish`);
    throw e;
  } finally {
    await log.close();
  }
}
