import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { configureLogging, createLogger, NestPinoLogger, type LogFormat } from '../../libs/logging/src/index.js';

/** A stream that keeps what it was given, line by line. */
function capture(isTTY = false): Writable & { lines: () => string[] } {
  let text = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  }) as Writable & { lines: () => string[]; isTTY?: boolean };
  w.isTTY = isTTY;
  w.lines = () => text.split('\n').filter(Boolean);
  return w;
}

const URL_WITH_PASSWORD = 'redis://:s3cret-pw@127.0.0.1:6379';

describe('createLogger, json', () => {
  it('one JSON object per line with level, time, service, pid, component and msg', () => {
    const out = capture();
    const log = createLogger({ service: 'host-vtd', format: 'json', level: 'debug', stream: out });
    log.child({ component: 'BullMqServer' }).info('listening');
    log.debug({ extra: 1 }, 'detail');
    const [a, b] = out.lines().map((l) => JSON.parse(l));
    expect(a).toMatchObject({ level: 'info', service: 'host-vtd', pid: process.pid, component: 'BullMqServer', msg: 'listening' });
    expect(new Date(a.time).toISOString()).toBe(a.time);
    expect(b).toMatchObject({ level: 'debug', extra: 1, msg: 'detail' });
  });

  it('redacts Redis credentials in messages, fields and errors', () => {
    const out = capture();
    const log = createLogger({ service: 's', format: 'json', stream: out });
    log.info(`redis ${URL_WITH_PASSWORD}`);
    log.warn({ redis: URL_WITH_PASSWORD }, 'field');
    log.error({ err: new Error(`connect to ${URL_WITH_PASSWORD} failed`) }, 'error');
    log.info('%s interpolated', URL_WITH_PASSWORD);
    const text = out.lines().join('\n');
    expect(text).not.toContain('s3cret-pw');
    expect(out.lines()).toHaveLength(4);
    for (const l of out.lines()) expect(() => JSON.parse(l)).not.toThrow();
    expect(text).toContain('redis://:***@127.0.0.1:6379');
  });

  it("drops the arguments of a failed AUTH from an ioredis error (the password, with no URL around it)", () => {
    const out = capture();
    const err = Object.assign(new Error('WRONGPASS invalid username-password pair'), { command: { name: 'hello', args: ['3', 'AUTH', 'default', 'n0t-in-env'] } });
    createLogger({ service: 's', format: 'json', stream: out }).fatal({ err }, 'stopped');
    const rec = JSON.parse(out.lines()[0]!);
    expect(rec.err.command).toEqual({ name: 'hello', args: ['***'] });
    expect(rec.err.message).toBe('WRONGPASS invalid username-password pair');
    expect(out.lines()[0]).not.toContain('n0t-in-env');
  });
});

describe('createLogger, text', () => {
  const line = (format: LogFormat, isTTY: boolean, colors?: boolean) => {
    const out = capture(isTTY);
    createLogger({ service: 'vfio-type1', format, stream: out, colors }).child({ component: 'bootstrap' }).warn({ n: 2 }, `ready ${URL_WITH_PASSWORD}`);
    return out.lines()[0]!;
  };

  it('a human line: time, level, service[pid] component: msg and fields; no password', () => {
    const l = line('text', false);
    expect(l).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z WARN  vfio-type1\\[${process.pid}\\] bootstrap: ready redis://:\\*\\*\\*@127\\.0\\.0\\.1:6379 n=2$`));
  });

  it('no ANSI colour when the stream is not a terminal; colour on a terminal unless NO_COLOR', () => {
    expect(line('text', false)).not.toContain('\x1b[');
    const saved = process.env.NO_COLOR;
    try {
      delete process.env.NO_COLOR;
      expect(line('text', true)).toContain('\x1b[33m');
      process.env.NO_COLOR = '1';
      expect(line('text', true)).not.toContain('\x1b[');
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });

  it('an error record carries its stack on the following lines', () => {
    const out = capture();
    createLogger({ service: 's', format: 'text', stream: out }).error({ err: new Error('kaput') }, 'failed');
    expect(out.lines()[0]).toMatch(/ERROR s\[\d+\]: failed$/);
    expect(out.lines()[1]).toBe('Error: kaput');
  });
});

describe('NestPinoLogger', () => {
  it("takes Nest's context argument, maps levels, keeps errors and stacks, and demotes Nest's start-up chatter to debug", () => {
    const out = capture();
    configureLogging({ service: 'orchestrator', format: 'json', level: 'info', stream: out });
    const nest = new NestPinoLogger();
    nest.log('dependencies initialized', 'InstanceLoader'); // Nest's own: debug, not shown at info
    nest.log('hello', 'ComponentHost');
    nest.warn('careful', 'ComponentHost');
    nest.error('failed', 'Error: x\n    at f (file.js:1:1)', 'Server');
    nest.error(new Error(`lost ${URL_WITH_PASSWORD}`));
    new NestPinoLogger('BullMqClient').debug('not at info');
    const recs = out.lines().map((l) => JSON.parse(l));
    expect(recs.map((r) => [r.level, r.component, r.msg])).toEqual([
      ['info', 'ComponentHost', 'hello'],
      ['warn', 'ComponentHost', 'careful'],
      ['error', 'Server', 'failed'],
      ['error', 'nest', 'lost redis://:***@127.0.0.1:6379'],
    ]);
    expect(recs[2].err.stack).toContain('at f (file.js:1:1)');
    expect(recs[3].err.stack).not.toContain('s3cret-pw');
  });

  it('a logger made before configureLogging follows the configuration made after', () => {
    const early = new NestPinoLogger('BullMqServer');
    const out = capture();
    configureLogging({ service: 'mdev-parent', format: 'json', stream: out });
    early.log('late');
    expect(JSON.parse(out.lines()[0]!)).toMatchObject({ service: 'mdev-parent', component: 'BullMqServer', msg: 'late' });
  });
});
