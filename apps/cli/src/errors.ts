/** An error the CLI reports in one message and maps to its exit code (DESIGN.md §6). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 | 3, /** added to the `--json` error object */ readonly details: Record<string, unknown> = {}) {
    super(message);
  }
}
/** Bad input: a scenario file, a flag, a policy: exit 2. */
export const usage = (m: string) => new CliError(m, 2);
/** Redis, processes, the network: exit 3. */
export const infra = (m: string) => new CliError(m, 3);
