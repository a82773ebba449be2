import { redactSecrets } from '../../../libs/redis/src/index.js';

/**
 * `--json`: stdout carries exactly one JSON object, whatever happens. A command writes its result
 * through `writeJsonResult`; when it fails instead, main writes `jsonError` (unless a result went
 * out already). Human output and logs go to stderr.
 */
let written = false;

export function writeJsonResult(value: unknown): void {
  process.stdout.write(`${redactSecrets(JSON.stringify(value))}\n`);
  written = true;
}

export const jsonResultWritten = (): boolean => written;

export type ErrorKind = 'failed' | 'bad-input' | 'infrastructure' | 'internal';

export interface JsonError {
  ok: false;
  exitCode: number;
  error: { kind: ErrorKind; message: string };
}

/** The object `--json` prints for a command that failed: exit 2 bad input, 3 infrastructure (or an internal error). */
export function jsonError(exitCode: number, message: string, internal = false): JsonError {
  const kind: ErrorKind = internal ? 'internal' : exitCode === 2 ? 'bad-input' : exitCode === 3 ? 'infrastructure' : 'failed';
  return { ok: false, exitCode, error: { kind, message: redactSecrets(message) } };
}

/** `--json` anywhere before a `--` on the command line (also when commander rejected the rest). */
export function jsonRequested(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}
