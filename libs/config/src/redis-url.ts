/**
 * Where Redis is. A plain URL (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS) names one
 * server; `redis+cluster://[user:password@]host:port[,host:port…]` (`rediss+cluster://` for TLS) names a
 * Redis Cluster by its seed nodes: one is enough to find the others, more survive one being down.
 */
export interface ClusterTarget {
  nodes: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  tls: boolean;
}

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\//i;

export const isClusterUrl = (url: string): boolean => CLUSTER_SCHEME.test(url);

/** The seed nodes and credentials of a `redis+cluster://` URL; throws TypeError saying what is wrong. */
export function parseClusterUrl(url: string): ClusterTarget {
  const m = CLUSTER_SCHEME.exec(url);
  if (!m) throw new TypeError('not a redis+cluster:// URL');
  const rest = url.slice(m[0].length);
  const authority = rest.split(/[/?#]/, 1)[0]!;
  const path = rest.slice(authority.length);
  if (path && !/^\/?0?$/.test(path)) throw new TypeError('a cluster has no databases but 0: nothing may follow the nodes but "/"');
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : '';
  const hosts = at >= 0 ? authority.slice(at + 1) : authority;
  const nodes = hosts.split(',').map((h) => {
    const hp = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/i.exec(h.trim());
    const port = Number(hp?.[2] ?? 6379);
    if (!hp || port < 1 || port > 65535) throw new TypeError(`'${h}' is not host:port`);
    return { host: hp[1]!.replace(/^\[|\]$/g, ''), port };
  });
  const colon = userinfo.indexOf(':');
  const username = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
  const password = colon >= 0 ? decodeURIComponent(userinfo.slice(colon + 1)) : undefined;
  return {
    nodes, tls: m[1]!.toLowerCase() === 'rediss',
    ...(username && password === undefined ? { password: username } : username ? { username } : {}),
    ...(password ? { password } : {}),
  };
}
