import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { configureLogging } from '../../libs/logging/src/index.js';
import { BullMqClient, REPLY_JOB_NAME } from '../../libs/transport/src/index.js';
import { deletePrefix } from '../support/cluster.js';
import { testPrefix } from '../support/redis.js';

// The symptom of issue 8: `--json` stdout began with a Nest DEBUG line. It was BullMqClient's "reply
// for unknown or finished request", printed by Nest's default ConsoleLogger, which writes log, warn
// and debug to stdout. The transport now logs through the process's pino logger, on stderr.

const prefix = testPrefix('transport-log');
afterAll(async () => {
  await deletePrefix(inject('redisUrl'), prefix);
});

describe('BullMqClient logs', () => {
  it('a reply for an unknown request: a debug record in the log, nothing on stdout', async () => {
    let text = '';
    const sink = new Writable({
      write(chunk, _e, cb) {
        text += String(chunk);
        cb();
      },
    });
    configureLogging({ service: 'cli', format: 'json', level: 'debug', stream: sink });
    const stdout = vi.spyOn(process.stdout, 'write');
    const url = inject('redisUrl');
    const client = new BullMqClient({ url, prefix, queue: 'vsva.log-test', service: 'log-test', replyQueue: 'vsva.log-test.reply.t' });
    const replies = new Queue('vsva.log-test.reply.t', { connection: { url }, prefix });
    try {
      await client.connect();
      await replies.add(REPLY_JOB_NAME, { id: 'no-such-request', response: 1, isDisposed: true });
      const deadline = Date.now() + 10_000;
      while (!text.includes('no-such-request') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const written = stdout.mock.calls.map((c) => String(c[0]));
      expect(written.filter((w) => w.includes('no-such-request'))).toEqual([]);
    } finally {
      stdout.mockRestore();
      await replies.close();
      await client.close();
    }
    const rec = text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((r) => String(r.msg).includes('no-such-request'));
    expect(rec).toMatchObject({ level: 'debug', service: 'cli', component: 'BullMqClient', pid: process.pid });
  });
});
