import { describe, expect, it } from 'vitest';
import { ConfigError, isClusterUrl, loadConfig, parseClusterUrl } from '../../libs/config/src/index.js';
import { redactText, redactUrl } from '../../libs/redis/src/index.js';

describe('a Redis Cluster URL', () => {
  it('names the seed nodes, the credentials and TLS', () => {
    expect(parseClusterUrl('redis+cluster://127.0.0.1:7001,127.0.0.1:7002')).toEqual({ nodes: [{ host: '127.0.0.1', port: 7001 }, { host: '127.0.0.1', port: 7002 }], tls: false });
    expect(parseClusterUrl('rediss+cluster://app:s%40cret@h1:7001,[::1]:7002/')).toEqual({ nodes: [{ host: 'h1', port: 7001 }, { host: '::1', port: 7002 }], tls: true, username: 'app', password: 's@cret' });
    // a bare user part is the password (Redis before ACLs), as for redis://
    expect(parseClusterUrl('redis+cluster://pw@h').password).toBe('pw');
    expect(parseClusterUrl('redis+cluster://h').nodes).toEqual([{ host: 'h', port: 6379 }]);
    expect(isClusterUrl('redis://h:6379')).toBe(false);
  });

  it('is refused with a reason when it cannot name a node, and the config error says which forms are accepted', () => {
    expect(() => parseClusterUrl('redis+cluster://h:99999')).toThrow(/not host:port/);
    expect(() => parseClusterUrl('redis+cluster://h:7001/3')).toThrow(/no databases/);
    expect(() => parseClusterUrl('redis+cluster://h:7001,,h:7002')).toThrow(/not host:port/);
    expect(loadConfig({ REDIS_URL: 'redis+cluster://a:7001,b:7002' }).redisUrl).toBe('redis+cluster://a:7001,b:7002');
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://a:7001,' })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://a:7001,' })).toThrow(/redis\+cluster:\/\/\[user:password@\]host:port\[,host:port…\]/);
  });

  it('never shows its password', () => {
    expect(redactUrl('redis+cluster://:s3cret@a:7001,b:7002')).not.toContain('s3cret');
    expect(redactText('cannot reach redis+cluster://app:s3cret@a:7001,b:7002, giving up')).not.toContain('s3cret');
  });
});
