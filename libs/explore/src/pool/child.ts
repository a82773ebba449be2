// The child process of processPool and of explore-worker --concurrency (child-workers.ts): runs the
// specs its parent sends, one at a time, and sends each result back. Not a command: a parent forks it.
import { executeRun } from '../run-spec.js';
import type { FromChild, ToChild } from './messages.js';

if (!process.send) {
  process.stderr.write('vsva-sim: this is the child of an explore pool; the parent forks it (see `vsva-sim explore-worker --help`)\n');
  process.exit(2);
}
const send = (m: FromChild) => process.send!(m);

// Ctrl-C reaches the whole process group: the parent decides when its children stop (close(), or its
// own exit, which closes the channel: nothing is left behind even when the parent is SIGKILLed).
process.on('SIGINT', () => {});
process.on('disconnect', () => process.exit(0));
process.on('message', (m: ToChild) => {
  // executeRun turns a bad spec into an error result; anything it throws ends this child, and the
  // parent reports the death with this child's stderr
  if (m?.type === 'run') void executeRun(m.spec).then((result) => send({ type: 'result', result }));
});
send({ type: 'ready' });
