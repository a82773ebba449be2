import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig } from '../../../libs/config/src/index.js';
import { COMPONENTS, LANE, PRESETS } from '../../../libs/contracts/src/index.js';
import { limitsHelp } from '../../../libs/scenario/src/index.js';
import { DIAGRAM_FORMATS } from '../../../libs/diagram/src/index.js';
import { acceptedFaults } from '../../../libs/chaos/src/index.js';
import { CliError, usage } from './errors.js';
import { jsonError, jsonRequested, jsonResultWritten, type JsonError } from './json-output.js';
import { redactSecrets } from '../../../libs/redis/src/index.js';
import { VERSION } from './version.js';

const int = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return Number(v);
};
const collect = (v: string, prev: string[]) => [...prev, v];
const probability = (name: string) => (v: string) => {
  const p = /^\s*(0|1|0?\.\d+|1\.0*)\s*$/.test(v) ? Number(v) : NaN;
  if (Number.isNaN(p)) throw new InvalidArgumentError(`${name} must be a number from 0 to 1`);
  return p;
};

const program = new Command('vsva-sim')
  .description('Simulates vSVA through a nested IOMMU: guest vIOMMU -> VFIO type1 -> mdev parent -> host VT-d,\nas services exchanging persisted events, so that runs can be recorded, replayed and checked.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

// logs (this command's and those of the services it starts) go to stderr or the services' log files,
// never stdout; as text lines (coloured only on a terminal, never with NO_COLOR) or JSON lines
program
  .addOption(new Option('--log-format <format>', 'logs as text lines or JSON lines (also VSVA_LOG_FORMAT); services started by this command inherit it').choices(['text', 'json']))
  .hook('preAction', () => {
    const format = program.opts().logFormat as string | undefined;
    // set in the environment, not only in this process's logger: the services this command starts inherit it
    if (format) process.env.VSVA_LOG_FORMAT = format;
    // every variable checked before any command runs: a bad one is bad input (exit 2) naming it
    try {
      loadConfig();
    } catch (e) {
      throw e instanceof ConfigError ? usage(e.message) : e;
    }
  });

program
  .command('run')
  .description('run one scenario, print its timeline (stderr) and verdict')
  .argument('<scenario>', 'a scenario file (YAML), e.g. scenarios/seed-null-iommu-device.yaml')
  .addOption(new Option('--policy <preset>', 'policy preset: which kernel/patch version to model (default, said on stderr: a scenario that reproduces a bug runs its buggy preset, since it is there to show the finding, and the fix is one --policy away; else mainline or the newest preset its verdicts list; else mainline)').choices(PRESETS))
  .option('--set <key=value>', 'override one policy of the preset (repeatable)', collect, [])
  .addOption(new Option('--engine <engine>', 'cluster: five services over BullMQ; embedded: one process, seeded scheduler; auto: cluster when REDIS_URL is set or a cluster is up').choices(['auto', 'cluster', 'embedded']).default('auto'))
  .option('--seed <n>', 'seed of the embedded scheduler (recorded in every run)', int('--seed'), 1)
  .option('--bias <p>', 'embedded: how often (0 to 1) the scheduler takes the first ready channel instead of a random one; 1 is a seed-free default order (explore and shrink say it when a finding needs it)', probability('--bias'))
  .option('--json', 'print the report as one JSON object on stdout (human output stays on stderr)')
  .option('-q, --quiet', 'no timeline')
  .option('--export <file>', "also write the run's log as NDJSON (replay and diff read it without Redis)")
  .option('--timeout <ms>', 'bound on the whole command, starting and stopping a cluster included (cluster): past it, exit 3 saying what it was doing', int('--timeout'), 120_000)
  .option('--step-timeout <ms>', 'a step with no completion after this long is recorded as timed out (cluster); Redis or a service unavailable for longer ends the run as infrastructure (exit 3)', int('--step-timeout'), 15_000)
  .option('--keep', "keep the folder of a private redis-server this command starts (removed after the run otherwise)")
  .addHelpText('after', `
Exit codes: 0 pass, 1 an invariant was violated, 2 bad input (scenario, flag, policy), 3 infrastructure.

Scenario limits (exit 2 when a scenario is over one; each variable raises its limit):
${limitsHelp()}

Examples:
  vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v1 --engine cluster   # the host oopses
  vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v2 --json             # -EINVAL, pass
  vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v2 --set vfio.iommu_device_null_check=false`)
  .action(async (file: string, opts) => {
    const { runCommand } = await import('./commands/run.js');
    process.exitCode = await runCommand(file, opts);
  });

program
  .command('replay')
  .description('re-fold a recorded run over the same deciders and compare every output and state hash with the record')
  .argument('<run>', 'a run id (looked up in the cluster\'s Redis) or an exported .ndjson file (no Redis needed)')
  .option('--json', 'one JSON object on stdout')
  .addHelpText('after', '\nExit codes: 0 identical, 1 diverged (the first divergence is shown), 2 bad file, 3 no Redis.')
  .action(async (run: string, opts) => {
    const { replayCommand } = await import('./commands/replay.js');
    process.exitCode = await replayCommand(run, !!opts.json);
  });

program
  .command('diagram')
  .description('draw a recorded run as a sequence diagram: a lane per component (per VM for the guest), an arrow per command from send to consume, events and kernel log lines as marks, the violating entries in red')
  .argument('<run>', "a run id (looked up in the cluster's Redis) or an exported .ndjson file")
  .addOption(new Option('--format <f>', 'mermaid pastes into GitHub and most review tools; svg stands alone; html is one self-contained file').choices(Object.keys(DIAGRAM_FORMATS)).default('mermaid'))
  .option('--around <seq>', 'centre the window on this log entry (default: end it on the first violation, or the run\'s end)', int('--around'))
  .option('--from <seq>', 'the window\'s first log entry', int('--from'))
  .option('--to <seq>', 'the window\'s last log entry', int('--to'))
  .option('--max <n>', 'at most this many log entries in the window (the diagram says what it left out)', int('--max'), 80)
  .option('--lanes <list>', `only these lanes, comma-separated (${COMPONENTS.map((c) => LANE[c]).join(', ')})`)
  .option('-o, --out <file>', 'write it there instead of stdout')
  .addHelpText('after', `
Examples:
  npx vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v1 --engine embedded --export v1.ndjson
  npx vsva-sim diagram v1.ndjson                     # Mermaid, ending on the NULL device reaching the host
  npx vsva-sim diagram v1.ndjson --format html -o v1.html
  npx vsva-sim diagram v1.ndjson --from 100 --to 160 --lanes vfio,host

Exit codes: 0 drawn, 2 bad input, 3 no Redis.`)
  .action(async (run: string, opts) => {
    const { diagramCommand } = await import('./commands/diagram.js');
    process.exitCode = await diagramCommand(run, opts);
  });

program
  .command('ui')
  .description('serve the dashboard: the run list, a run page with a scrubber over the log and every component\'s state at the cursor, live runs followed as they are written, two runs side by side, the queues (bull-board), and JSON for all of it')
  .option('--port <n>', 'port to listen on (0: any free one)', int('--port'), 7480)
  .option('--host <address>', 'address to listen on; anything but loopback shows every run to whoever reaches it', '127.0.0.1')
  .option('--runs <path>', 'a folder of exported runs (.ndjson) or one file, besides the cluster\'s kept runs (repeatable)', collect, [])
  .option('--no-redis', "read exported files only, even when a cluster is up or REDIS_URL is set")
  .addHelpText('after', `
Runs come from the cluster's Redis (the one \`vsva-sim up\` started, else REDIS_URL) and from exported
files: the folder every cluster run is kept in ($VSVA_STATE_DIR/runs) and each --runs path.
The URL is printed on stdout; the dashboard runs until Ctrl-C.

Examples:
  npx vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v1 --engine embedded --export v1.ndjson
  npx vsva-sim ui --runs v1.ndjson                  # then open http://127.0.0.1:7480
  npx vsva-sim ui --runs exported/                  # every .ndjson in a folder
  npx vsva-sim ui --port 0 --no-redis --runs v1.ndjson

Exit codes: 2 bad input, 3 Redis unreachable or the port in use.`)
  .action(async (opts) => {
    const { uiCommand } = await import('./commands/ui.js');
    process.exitCode = await uiCommand(opts);
  });

program
  .command('export')
  .description("write a run's log as NDJSON: a header line (schema, version, scenario, policy, seed), then one entry per line")
  .argument('<run-id>', 'a run id in the cluster\'s Redis')
  .requiredOption('-o, --out <file>', 'the file to write')
  .action(async (runId: string, opts) => {
    const { exportCommand } = await import('./commands/export-import.js');
    process.exitCode = await exportCommand(runId, opts.out);
  });

program
  .command('import')
  .description('load an NDJSON export into the cluster\'s Redis under its run id')
  .argument('<file>', 'an exported .ndjson file')
  .option('--replace', 'overwrite a run with the same id')
  .action(async (file: string, opts) => {
    const { importCommand } = await import('./commands/export-import.js');
    process.exitCode = await importCommand(file, !!opts.replace);
  });

program
  .command('diff')
  .description('how two runs behave differently: per component, where each first diverges, and a summary of what differs after')
  .argument('<a>', 'a run id or an exported .ndjson file')
  .argument('<b>', 'a run id or an exported .ndjson file')
  .option('--strict', 'compare the global interleaving entry by entry instead (two schedules of one run differ)')
  .option('--json', 'one JSON object on stdout: mode, identical, first, components (each with its divergence), stateHashes, outcomes, violations, after')
  .addHelpText('after', `
By default diff compares behaviour: each component's inputs in the order it consumed them, each with
the outputs it caused, run ids, timestamps, sequences and Lamport clocks aside. Two runs of one
scenario and policy that only interleave differently (two seeds, a cluster run and an embedded run)
are identical; state hashes are compared too when the scenario and policy are the same (a state holds
its policy). For each component that diverges it names the input's position in that component's
order, its sequence in A and in B, and what differs; then the outcomes and violations that differ.
Exit codes: 0 identical, 1 different, 2 bad input, 3 infrastructure.

Example: the seed scenario under v1 and v2 (first divergence: VFIO meets the NULL iommu device)
  vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v1 --engine embedded --export v1.ndjson
  vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v2 --engine embedded --export v2.ndjson
  vsva-sim diff v1.ndjson v2.ndjson
  vsva-sim diff v1.ndjson v2.ndjson --strict   # where the two logs first differ, entry by entry`)
  .action(async (a: string, b: string, opts) => {
    const { diffCommand } = await import('./commands/diff.js');
    process.exitCode = await diffCommand(a, b, !!opts.json, !!opts.strict);
  });

program
  .command('shrink')
  .description('delta-debug a finding: the smallest scenario that still breaks its invariant, as a file `vsva-sim run` fails by itself, with its run\'s log')
  .argument('<input>', 'a scenario file (.yaml), a run id (looked up in Redis, or its kept export) or an exported .ndjson file')
  .option('--invariant <name>', 'the invariant to keep broken (default: the one the run breaks first, in log order)')
  .addOption(new Option('--policy <preset>', 'for a scenario file: the policy preset (default as `run` chooses it: the buggy preset of its bug, else its verdicts, else mainline)').choices(PRESETS))
  .option('--set <key=value>', 'for a scenario file: override one policy of the preset (repeatable)', collect, [])
  .option('--seed <n>', 'for a scenario file: the embedded scheduler\'s seed (default 1, as `run`)', int('--seed'))
  .option('--out <dir>', 'where to write scenario.yaml and run.ndjson (default .vsva/shrink/<scenario-name>/)')
  .option('--max-runs <n>', 'bound on the candidate runs: past it, the smallest scenario so far is the result (said so)', int('--max-runs'), 3000)
  .option('--json', 'one JSON object on stdout: ok, input, invariant, policy, seed, bias, before, after (steps, vms, mdevs, parents, workload), runs, budgetHit, wallMs, scenarioFile, logFile, reproduce, violations')
  .addHelpText('after', `
Each candidate (the scenario less a VM, mdev or parent with everything that names it, less steps, a
step always with the users of its $variable, less workload entries, with an argument back to its
default, or setup done by a step back to automatic) is run in the embedded engine and kept when it
still breaks the invariant. The scheduler goes first: the default order, else seed 1, else the
finding's own. A recorded run is shrunk from the scenario, policy and seed its run.start recorded.
The file written has no expect: fields, says in its description where it came from and what it
breaks, and declares the failing policy in its verdicts, so that \`vsva-sim run\` picks it. Progress
goes to stderr. Same input, same result.

Exit codes: 0 shrunk, 2 bad input (the input breaks no invariant, or not the one named: the message
lists what it breaks), 3 infrastructure (no Redis for a run id).

Examples:
  vsva-sim shrink scenarios/seed-null-iommu-device.yaml --policy v1        # keeps no-host-oops
  vsva-sim shrink scenarios/prq-no-drain-pasid-reuse.yaml --invariant drain-before-reuse --out /tmp/prq
  vsva-sim run scenarios/seed-null-iommu-device.yaml --policy v1 --engine embedded --export v1.ndjson
  vsva-sim shrink v1.ndjson --json`)
  .action(async (input: string, opts) => {
    const { shrinkCommand } = await import('./commands/shrink.js');
    process.exitCode = await shrinkCommand(input, opts);
  });

program
  .command('corpus')
  .description('run every scenario of a folder under the policies it declares (its bug\'s buggy and fixed presets, its verdicts) and check each behaves as declared')
  .argument('[dir]', 'the scenario folder', 'scenarios')
  .addOption(new Option('--engine <engine>', 'as for run').choices(['auto', 'cluster', 'embedded']).default('auto'))
  .option('--json', 'one JSON object on stdout: ok, and per scenario file, bug, invariant, buggy and fixed (verdict, violations), ok')
  .option('--timeout <ms>', 'give up on one run after this long (cluster)', int('--timeout'), 120_000)
  .option('--jobs <n>', 'runs at once (cluster): each run goes to one partition of each service, so replicas (up --replicas) share them out', int('--jobs'), 1)
  .addHelpText('after', '\nExit codes: 0 every scenario as declared, 1 one is not, 2 a bad scenario file, 3 infrastructure.\n\n  vsva-sim up --replicas 2 && vsva-sim corpus --engine cluster --jobs 4')
  .action(async (dir: string, opts) => {
    const { corpusCommand } = await import('./commands/corpus.js');
    process.exitCode = await corpusCommand(dir, opts);
  });

program
  .command('chaos')
  .description('run scenarios under injected faults and check that the infrastructure lost and doubled nothing, and what the modelled kernel did when its hardware misbehaved')
  .argument('<scenario>', 'a scenario file, or a folder of them (runs cycle through its files)')
  .addOption(new Option('--engine <engine>', 'embedded: the seeded scheduler fires every fault; cluster: a nemesis acts on the services and Redis this command starts').choices(['embedded', 'cluster']).default('embedded'))
  .option('--faults <list>', 'which faults, comma-separated, each optionally =P (see below)', 'all')
  .option('--runs <n>', 'how many runs (run i uses seed S+i and the (i mod files)-th scenario)', int('--runs'), 20)
  .option('--seed <n>', 'seed S of the first run: every fault, rate and position is drawn from it', int('--seed'), 1)
  .addOption(new Option('--policy <preset>', 'the kernel the runs model (the fixed kernel by default: a finding is then a bug of today)').choices(PRESETS).default('mainline'))
  .option('--set <key=value>', 'override one policy of the preset (repeatable)', collect, [])
  .option('--out <dir>', 'write each failed run there: its faulted scenario (vsva-sim run takes it), its log (.ndjson: replay and diff take it), its timeline with the nemesis lane, and its result')
  .option('--timeline', "print each run's timeline (stderr), the injected faults in a nemesis lane")
  .option('--json', 'one JSON object on stdout: ok, runs, faults (kind: count), lost, duplicated, replayIdentical, findings, failures')
  .option('--duration <seconds>', 'start no run after this long: a soak (with a large --runs); the summary says how many ran', int('--duration'))
  .option('--schedule <file>', 'the nemesis schedule to follow (cluster; JSON, as each run writes it beside its log): replays a run\'s faults as closely as real processes allow')
  .option('--timeout <ms>', 'bound on one run, faults and healing included (cluster)', int('--timeout'), 300_000)
  .option('--step-timeout <ms>', 'a step with no completion after this long is recorded as timed out (cluster): above a restart plus the job lock', int('--step-timeout'), 60_000)
  .addHelpText('after', () => `
Each run: the scenario with the run's device faults put in as steps (their positions drawn from the
seed) and its expectations dropped, run three ways: without any fault, with the device faults (the
reference), and with the device faults and the infrastructure's. Checked:
  - nothing lost or doubled: every input consumed once, every command consumed, no hole in the log;
  - replay of the faulted run identical;
  - the same verdict, invariants and foreground results as the reference (infrastructure faults are
    invisible to the kernel);
  - findings: an invariant the reference breaks and the fault-free run keeps, with the faults that did it.
Two phases: faults fire until three quarters of the run (safety), then stop (liveness: the run completes).
In the cluster engine this command starts a cluster of its own (a private redis-server with its
append-only file, the five services) and its nemesis acts only on those processes, at log positions
drawn from the seed; it heals them (restart, SIGCONT) before it exits, also on Ctrl-C. The reference is
then the embedded engine driven by the order the cluster consumed its inputs in: the same log, entry
for entry. Each run's schedule is written to .vsva/chaos/<run-id>.schedule.json (or --out) and its log
to .vsva/runs/<run-id>.ndjson (vsva-sim replay <run-id>).

${acceptedFaults()}
A kind named without P: delivery faults fire with their default probability per job, process and
device faults once per run at a seeded position. swarm draws per run which kinds are on and at what rate.

Exit codes: 0 nothing lost or doubled and no finding, 1 a loss, a doubling, a divergence or a finding,
2 bad input (an unknown fault, a probability outside [0, 1], a bad scenario), 3 infrastructure.

Examples:
  vsva-sim chaos scenarios --faults all --runs 200 --seed 1
  vsva-sim chaos scenarios/devtlb-ite-absent-device.yaml --faults surprise-removal --policy v8   # bug #16
  vsva-sim chaos scenarios/four-vms-two-parents-background.yaml --faults duplicate=0.2,delay=0.1 --json
  vsva-sim chaos scenarios --engine cluster --faults infra,swarm --runs 100000 --duration 3600 --json   # a soak`)
  .action(async (target: string, opts) => {
    const { chaosCommand } = await import('./commands/chaos.js');
    process.exitCode = await chaosCommand(target, opts);
  });

program
  .command('explore')
  .description('generate scenarios from descriptions of the operations, run them, and report each distinct invariant they break, shrunk to a scenario you can run')
  .addOption(new Option('--policy <preset>', 'the kernel the runs model: a buggy preset to find its bugs, mainline to look for new ones').choices(PRESETS).default('mainline'))
  .option('--set <key=value>', 'override one policy of the preset (repeatable): encode a patch as a policy and explore it', collect, [])
  .option('--budget <n|time>', 'how much to explore: a number of runs (2000) or a time (60s, 5m, 1h)', '2000')
  .option('--seed <n>', 'seed of the exploration: run i\'s program, configuration and schedule are drawn from it and i', int('--seed'), 1)
  .option('--workers <n>', 'run simulations in N processes on this machine', int('--workers'), 1)
  .option('--redis <url>', 'run them on explore-workers (vsva-sim explore-worker) on any machines sharing this Redis: the same findings as here')
  .option('--faults <list>', 'also inject faults (the chaos kinds the embedded engine has: delivery and device; see vsva-sim chaos --help), e.g. device,swarm')
  .option('--out <dir>', 'findings, corpus and coverage go here; a second explore with the same folder continues (default .vsva/explore)')
  .option('--quirks <file|none>', 'known behaviours not to report again, beyond the documented ones (bug #5, #13): a YAML list of { invariant, signature?, message? (a regex), preset?, why }; none: report those too')
  .option('--no-shrink', 'report findings as found, without shrinking them')
  .option('--shrink-runs <n>', 'bound on the runs one shrink may take', int('--shrink-runs'), 2000)
  .option('--uniform', 'uniform random generation: every operation on with equal weight, no corpus (the benchmark\'s peer)')
  .option('--json', 'one JSON object on stdout: runs, coverage, corpus, findings (invariant, signature, seed, files, reproduce)')
  .addHelpText('after', `
Each run draws, from the seed and its index, a configuration (swarm testing: which operations are on
and how often, how arguments are drawn: valid, at a boundary or invalid; the topology's odds; the
scheduler's bias), then a program: a topology of VMs, parents and mdevs and a list of guest, VMM,
device and host operations whose arguments refer to what earlier steps made. Half the runs instead
mutate a program of the corpus (insert, delete, swap, redraw a step's arguments, turn a topology
knob): a run that reaches a (component, event, errno/reason) tuple no run reached before joins it.
Every run is checked by every invariant (DOMAIN.md §6); a violation whose invariant and signature
(where it broke) are new is a finding, shrunk to the smallest scenario that still breaks it there.

Files (--out): state.json, coverage.txt, corpus/<run>.yaml, findings/<invariant>-<hash>/ with
scenario.yaml (shrunk: vsva-sim run takes it), original.yaml, run.ndjson and finding.json.
Ctrl-C stops after the batch in flight and keeps every finding written so far.

Exit codes: 0 no finding, 1 findings, 2 bad input (budget, policy, --set, --faults, a folder of
another exploration), 3 infrastructure.

Examples:
  vsva-sim explore --policy v1 --budget 2000 --seed 1             # finds the seed review's NULL device
  vsva-sim explore --policy mainline --set vtd.drain_prq=false --budget 60s
  vsva-sim explore --policy v8 --budget 5m --workers 2 --out /tmp/v8-explore`)
  .action(async (opts) => {
    const { exploreCommand } = await import('./commands/explore.js');
    process.exitCode = await exploreCommand(opts);
  });

program
  .command('audit')
  .description('check recorded runs for what the infrastructure may have lost or doubled: every input consumed once, every command consumed, no hole in the log, replay identical')
  .argument('[runs...]', 'run ids (looked up in Redis, or their kept export) or exported .ndjson files')
  .option('--all', 'every finished run in the cluster\'s Redis (the compose chaos profile ends with this)')
  .option('--json', 'one JSON object on stdout: ok, runs, lost, duplicated, replayDivergent, audited (per run)')
  .addHelpText('after', '\nExit codes: 0 nothing lost or doubled and every replay identical, 1 otherwise, 2 bad input, 3 no Redis.')
  .action(async (runs: string[], opts) => {
    const { auditCommand } = await import('./commands/audit.js');
    process.exitCode = await auditCommand(runs, opts);
  });

program
  .command('policies')
  .description('list the policies (behaviour that differs between versions), their value in each preset, and the host kernel each preset runs on')
  .option('--json', 'one JSON object: presets (host kernel, source) and policies (description, source, kernel, value per preset)')
  .option('--markdown', 'the table of docs/policies.md')
  .addHelpText('after', '\nA run takes a preset and overrides: vsva-sim run FILE --policy v1 --set vtd.null_device=WARN')
  .action(async (opts) => {
    const { policiesCommand } = await import('./commands/policies.js');
    process.exitCode = policiesCommand(opts);
  });

program
  .command('up')
  .description('start Redis (unless REDIS_URL) and a supervisor that runs the five services in the background and restarts any that exits')
  .option('--replicas <n>', 'processes per service (1-16, default VSVA_REPLICAS, else 1): they share out the partitions of its data queue (VSVA_PARTITIONS)', int('--replicas'))
  .addHelpText('after', `
One cluster per namespace (Redis + VSVA_PREFIX); a second 'up' in it says so and exits 0. Each service
process holds a replica slot there, renewed as its heartbeat. A service's data queue is split into
partitions (VSVA_PARTITIONS, default 4; a run's inputs all go to one); the live replicas of a service
share them out, each partition consumed by one replica at a time under a lease, handed over when a
replica joins or leaves and taken over when one dies. 'vsva-sim status' shows who owns which.
State in .vsva/ (VSVA_STATE_DIR), logs in .vsva/logs/ (supervisor.log says every restart).

  vsva-sim up --replicas 2 && vsva-sim corpus --engine cluster && vsva-sim down`)
  .action(async (opts: { replicas?: number }) => {
    const { upCommand } = await import('./commands/cluster.js');
    process.exitCode = await upCommand(opts);
  });
program.command('down').description('stop what `up` started: the supervisor, the services (SIGTERM, then SIGKILL after 10 s) and its redis-server').action(async () => {
  const { downCommand } = await import('./commands/cluster.js');
  process.exitCode = await downCommand();
});
program
  .command('status')
  .description('each service of the cluster by its replicas\' heartbeats: pid, heartbeat age, uptime, inputs, restarts, the partitions each consumes (reads only; exit 3 when one is down or Redis is unusable)')
  .option('--json', 'one JSON object on stdout')
  .action(async (opts) => {
    const { statusCommand } = await import('./commands/cluster.js');
    process.exitCode = await statusCommand(!!opts.json);
  });
program
  .command('restart')
  .description("restart one service (every replica of it): `up`'s supervisor does it; without one, this command starts it again in the background")
  .argument('<service>', 'guest-viommu, vfio-type1, mdev-parent, host-vtd or orchestrator')
  .action(async (service: string) => {
    const { restartCommand } = await import('./commands/cluster.js');
    process.exitCode = await restartCommand(service);
  });
program
  .command('health')
  .description("exit 0 when the service's heartbeat is fresh, 3 otherwise (a container healthcheck)")
  .argument('<service>', 'guest-viommu, vfio-type1, mdev-parent, host-vtd or orchestrator')
  .action(async (service: string) => {
    const { healthCommand } = await import('./commands/cluster.js');
    process.exitCode = await healthCommand(service);
  });
program.command('supervise', { hidden: true }).option('--replicas <n>', 'processes per service', int('--replicas'), 1).action(async (opts: { replicas: number }) => {
  const { superviseCommand } = await import('./supervisor.js');
  process.exitCode = await superviseCommand(opts.replicas);
});

program
  .command('explore-worker')
  .description("run explorations' simulations for any `vsva-sim explore` on the same Redis: takes runs from its queue, runs each in the embedded engine, sends the result back")
  .option('--redis <url>', 'the Redis the explorations use (default: VSVA_REDIS_URL, else REDIS_URL)')
  .option('--concurrency <n>', 'simulations at once, each in a child process of its own (one per core is the most that helps)', int('--concurrency'), 1)
  .option('--prefix <prefix>', "the queue's BullMQ key prefix: the exploration's (change it only to keep two groups of explorations apart)", 'vsva-explore')
  .addHelpText('after', `
A worker serves every exploration on its Redis: each run arrives as a BullMQ job holding everything it
needs (the scenario, policy, seed, scheduler bias and faults), so its result is the same on any machine,
and the exploration merges results in run order: the same seed and budget find the same findings
however many workers ran them. A worker runs until Ctrl-C or SIGTERM, which let the runs in progress
finish first. Logs go to stderr (--log-format json for JSON lines). A job whose payload is not a run is
answered with an error result; the worker keeps serving. Workers must run the same vsva-sim version as
the exploration.

Exit codes: 0 stopped by a signal, 2 bad input, 3 Redis unreachable (the cause is named).

Example, two machines sharing the Redis on host a:
  a$ vsva-sim explore-worker --redis redis://a:6379 --concurrency 2
  b$ vsva-sim explore-worker --redis redis://a:6379 --concurrency 2
  a$ vsva-sim explore --policy v1 --budget 2000 --seed 1 --redis redis://a:6379`)
  .action(async (opts) => {
    const { exploreWorkerCommand } = await import('./commands/explore-worker.js');
    process.exitCode = await exploreWorkerCommand(opts);
  });

program
  .command('bench')
  .description('measure the cluster against its peers in one run: raw BullMQ, raw Redis Streams, a bare reducer (each figure beside its peer, with the ratio)')
  .option('--quick', 'smaller sizes, scale at 1 and 8 VMs, one trial: finishes within a minute (the full run: within ten)')
  .option('--json', 'print one JSON object on stdout: machine, config and figures (each with name, value, unit, peer, ratio, goal)')
  .option('--out <file>', 'also write the JSON object to this file')
  .option('--only <figures>', 'only these figures, comma-separated: log-append, replay, embedded, chaos, hop-throughput, hop-latency, scale, scale-out, explore (embedded, chaos and explore need no Redis and no services)')
  .addHelpText('after', `
Figures, each the median of repeated trials (spread shown) beside its peer, measured on the same Redis:
  hop-throughput      cluster hops/s under concurrent runs (log append included)   vs raw BullMQ one-way
  hop-throughput-naive  the same hops                                              vs BullMQ one-way + an XADD per job
  hop-throughput-chain  the same hops                                              vs a BullMQ chain: a job per hop, each added
                                                                                    by the processor of the one before
  hop-latency-p50/99  one request/reply between two services through the transport  vs raw BullMQ ping-pong
  log-append          idempotent append (appendMany), entries/s                        vs raw pipelined XADD
  replay              replay of an exported run (100,000 entries), entries/s           vs raw XRANGE + JSON.parse
  embedded            embedded engine, entries/s                                       vs a bare immutable reducer
  chaos-embedded      vsva-sim chaos --faults all, faulted runs/s                      vs fault-free runs of the same scenario
  scale-*             hop throughput, CPU and Redis memory per entry at 1, 16, 64, 256 VMs
  scale-out-*         hop throughput with 1, 2, 4 replicas per service, on one Redis  vs raw BullMQ with the same
                      and on a local three-master Redis Cluster                     queues and processes
  explore-bug-*       vsva-sim explore, seconds until each bug-table entry's invariant  vs uniform random generation
                      (and mainline explored for a fixed time: its findings, documented quirks or open)

Redis: REDIS_URL if set, else a private redis-server (append-only, appendfsync always, as the product
starts it). Keys go under a prefix of the bench's own (VSVA_BENCH_PREFIX, else vsvabench-<pid>-<random>)
and are deleted after. The five services are started for the bench and stopped after; a running
cluster (vsva-sim up) is not used. Build first (npm run build).

Examples:
  vsva-sim bench --quick
  vsva-sim bench --only embedded
  vsva-sim bench --json --out bench.json`)
  .action(async (opts) => {
    const { benchCommand } = await import('./commands/bench.js');
    process.exitCode = await benchCommand(opts);
  });

/** Set once the command has decided its exit code and output. */
let decided = false;
process.on('unhandledRejection', (e) => {
  // a connection failing late (its Redis is gone) after the command decided: its exit code stands
  if (decided) return;
  process.stderr.write(`vsva-sim: internal error: unhandled ${redactSecrets(String((e as Error)?.stack ?? e))}\n`);
  process.exit(3);
});
try {
  await program.parseAsync(process.argv);
} catch (e) {
  // --json: whatever happens, stdout gets exactly one JSON object (the error when no result went out)
  const json = jsonRequested(process.argv.slice(2));
  let failure: JsonError | undefined;
  if (e instanceof CommanderError) {
    // --help and --version end here with code 0; a usage error is exit 2 (commander said why on stderr)
    process.exitCode = e.exitCode === 0 ? 0 : 2;
    if (e.exitCode !== 0) failure = jsonError(2, e.message.replace(/^error: /, ''));
  } else if (e instanceof CliError) {
    process.stderr.write(`vsva-sim: ${redactSecrets(e.message)}\n`);
    process.exitCode = e.exitCode;
    failure = { ...jsonError(e.exitCode, e.message), ...e.details };
  } else {
    process.stderr.write(`vsva-sim: internal error: ${redactSecrets((e as Error).stack ?? String(e))}\n`);
    process.exitCode = 3;
    failure = jsonError(3, (e as Error).message ?? String(e), true);
  }
  if (json && failure && !jsonResultWritten()) process.stdout.write(`${JSON.stringify(failure)}\n`);
}
decided = true;
// The command is done. A connection whose close could not finish (its Redis is gone) must not keep the
// process alive: an unref'd timer fires only if something else still holds the event loop.
setTimeout(() => process.exit(), 1500).unref();
