// A CPU profile of each service process the CLI or the bench starts, for finding where a hop's time goes.
// Node refuses --cpu-prof in NODE_OPTIONS, and the services leave through Nest's signal handler (which
// re-raises the signal, so --cpu-prof would write nothing); this preload profiles through the inspector
// and writes the profile when the service gets SIGTERM or exits:
//
//   NODE_OPTIONS="--require ./scripts/cpu-profile.cjs" CPU_PROFILE_DIR=/tmp/prof \
//     npx vsva-sim bench --only hop-throughput
//
// One <service>-<pid>.cpuprofile per service in CPU_PROFILE_DIR (default: the working directory);
// open them in Chrome's DevTools (Performance) or any .cpuprofile viewer. Other processes are left alone.
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const service = /[/\\]services[/\\]([\w-]+)\.mjs$/.exec(process.argv[1] ?? '')?.[1];
if (service) {
  const dir = process.env.CPU_PROFILE_DIR || process.cwd();
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // every 0.5 ms: fine enough for a hop of about a millisecond, light enough not to change it much
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // the inspector answers a session of this thread synchronously: the file is there before the exit
    session.post('Profiler.stop', (err, res) => {
      if (err) return void process.stderr.write(`cpu-profile: ${err.message}\n`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${service}-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  };
  process.prependListener('SIGTERM', write);
  process.on('exit', write);
}
