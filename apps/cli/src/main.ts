import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { PRESETS } from '../../../libs/contracts/src/index.js';
import { CliError } from './errors.js';
import { VERSION } from './version.js';

const int = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return Number(v);
};
const collect = (v: string, prev: string[]) => [...prev, v];

const program = new Command('vsva-sim')
  .description('Simulates vSVA through a nested IOMMU: guest vIOMMU -> VFIO type1 -> mdev parent -> host VT-d,\nas services exchanging persisted events, so that runs can be recorded, replayed and checked.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('run')
  .description('run one scenario, print its timeline (stderr) and verdict')
  .argument('<scenario>', 'a scenario file (YAML), e.g. scenarios/seed-null-iommu-device.yaml')
  .addOption(new Option('--policy <preset>', 'policy preset: which kernel/patch version to model').choices(PRESETS).default('mainline'))
  .option('--set <key=value>', 'override one policy of the preset (repeatable)', collect, [])
  .addOption(new Option('--engine <engine>', 'cluster: five services over BullMQ; embedded: one process, seeded scheduler; auto: cluster when REDIS_URL is set or a cluster is up').choices(['auto', 'cluster', 'embedded']).default('auto'))
  .option('--seed <n>', 'seed of the embedded scheduler (recorded in every run)', int('--seed'), 1)
  .option('--json', 'print the report as one JSON object on stdout (human output stays on stderr)')
  .option('-q, --quiet', 'no timeline')
  .option('--timeout <ms>', 'give up on the whole run after this long (cluster)', int('--timeout'), 120_000)
  .option('--step-timeout <ms>', 'a step with no completion after this long is recorded as timed out (cluster)', int('--step-timeout'), 15_000)
  .addHelpText('after', `
Exit codes: 0 pass, 1 an invariant was violated, 2 bad input (scenario, flag, policy), 3 infrastructure.

Examples:
  vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v1 --engine cluster   # the host oopses
  vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v2 --json             # -EINVAL, pass
  vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v2 --set vfio.iommu_device_null_check=false`)
  .action(async (file: string, opts) => {
    const { runCommand } = await import('./commands/run.js');
    process.exitCode = await runCommand(file, opts);
  });

program.command('up').description('start Redis (unless REDIS_URL) and the five services in the background').action(async () => {
  const { upCommand } = await import('./commands/cluster.js');
  process.exitCode = await upCommand();
});
program.command('down').description('stop what `up` started').action(async () => {
  const { downCommand } = await import('./commands/cluster.js');
  process.exitCode = await downCommand();
});
program
  .command('status')
  .description("health of each service of the local cluster (exit 3 when one is down)")
  .option('--json', 'one JSON object on stdout')
  .action(async (opts) => {
    const { statusCommand } = await import('./commands/cluster.js');
    process.exitCode = await statusCommand(!!opts.json);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version end here with code 0; a usage error is exit 2
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof CliError) {
    process.stderr.write(`vsva-sim: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`vsva-sim: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 3;
  }
}
