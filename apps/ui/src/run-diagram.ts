import { sequenceOf, type SequenceDiagram, type WindowOptions } from '../../../libs/diagram/src/index.js';
import type { OpenRun } from './run-catalog.js';

/** A run's sequence diagram, with the violations its report found marked (the `diagram` command's picture). */
export const diagramOf = (run: OpenRun, o: WindowOptions): SequenceDiagram =>
  sequenceOf(run.entries, run.report.violations, `run ${run.meta.runId}`, o);
