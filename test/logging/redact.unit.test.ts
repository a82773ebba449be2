import { describe, expect, it } from 'vitest';
import { redactSecrets, redactText, redactUrl, secretsOf } from '../../libs/redis/src/index.js';

describe('redactUrl', () => {
  it('replaces the password and keeps the rest of the URL', () => {
    expect(redactUrl('redis://:s3cret@127.0.0.1:6379/0')).toBe('redis://:***@127.0.0.1:6379/0');
    expect(redactUrl('rediss://app:s3cret@redis.internal:6380')).toBe('rediss://app:***@redis.internal:6380');
  });
  it('replaces a user name given alone (the pre-ACL form carried the password there)', () => {
    expect(redactUrl('redis://s3cret@h:6379')).toBe('redis://***@h:6379');
  });
  it('handles passwords with reserved characters, percent-encoded or not', () => {
    expect(redactUrl('redis://:p%40ss%3Aw0rd@h:6379')).toBe('redis://:***@h:6379');
    expect(redactUrl('redis://:p@ss@h:6379')).toBe('redis://:***@h:6379');
  });
  it('leaves a URL without credentials as it is', () => {
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
  it('hides the credentials of what does not parse as a URL', () => {
    const out = redactUrl('redis://:s3cret@h:notaport');
    expect(out).not.toContain('s3cret');
    expect(out).toContain('h:notaport');
  });
});

describe('redactText', () => {
  it('redacts every Redis URL inside a message, whatever surrounds it', () => {
    const text = `ready (redis redis://:s3cret@127.0.0.1:6379, prefix p) and "rediss://u:0ther@h:1/2" then 'REDIS://:third@h'`;
    const out = redactText(text);
    for (const secret of ['s3cret', '0ther', 'third']) expect(out).not.toContain(secret);
    expect(out).toContain('redis://:***@127.0.0.1:6379');
    expect(out).toContain('prefix p');
  });
  it('redacts inside a JSON line', () => {
    const line = JSON.stringify({ msg: 'boom', url: 'redis://:s3cret@h:6379' });
    expect(JSON.parse(redactText(line))).toEqual({ msg: 'boom', url: 'redis://:***@h:6379' });
  });
  it('returns text without a Redis URL unchanged', () => {
    const t = 'connect ECONNREFUSED 127.0.0.1:6379';
    expect(redactText(t)).toBe(t);
  });
});

describe('redactSecrets', () => {
  it("also hides the literal credentials of the process's Redis URLs, where no URL surrounds them", () => {
    const env = { REDIS_URL: 'redis://:p%40ss-w0rd@h:6379', VSVA_REDIS_URL: 'redis://app:an0ther@h:1' };
    expect(secretsOf(env.REDIS_URL)).toEqual(['p%40ss-w0rd', 'p@ss-w0rd']);
    // what ioredis reports for a failed AUTH: the password among the command's arguments
    const err = JSON.stringify({ msg: 'WRONGPASS', command: { name: 'hello', args: ['3', 'AUTH', 'default', 'p@ss-w0rd'] }, other: 'an0ther' });
    const out = redactSecrets(err, env);
    expect(out).not.toContain('p@ss-w0rd');
    expect(out).not.toContain('an0ther');
    expect(JSON.parse(out).command.args).toEqual(['3', 'AUTH', 'default', '***']);
  });
  it('leaves text alone when the URLs carry no credentials', () => {
    expect(redactSecrets('nothing secret here', { REDIS_URL: 'redis://127.0.0.1:6379' })).toBe('nothing secret here');
  });
});
