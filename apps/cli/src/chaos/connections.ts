import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * A process's connections as Redis lists them, found by the process's own sockets rather than by
 * client names: BullMQ names the blocking connection of each worker itself (`<prefix>:<queue>`),
 * overriding any name a service would give it, and that is the connection a `disconnect` must cut
 * first. Linux's /proc says which local TCP ports a pid holds; Redis's CLIENT LIST says each client's
 * address; a local port is one socket, so the match is exact and never touches another process.
 */
export const canFindConnections = (): boolean => existsSync('/proc/self/net/tcp');

/** The local TCP ports of `pid`'s sockets (IPv4 and IPv6). */
export function localPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]!);
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(':').pop()!, 16));
    }
  }
  return ports;
}

/** Closes every connection of `pid` to the Redis that `admin` talks to (CLIENT KILL ID); returns how many. */
export async function dropConnectionsOf(admin: Redis, pid: number): Promise<number> {
  const ports = localPortsOf(pid);
  const list = (await admin.client('LIST')) as string;
  const ids = list.split('\n').flatMap((line) => {
    const id = /(?:^| )id=(\d+)/.exec(line)?.[1];
    const port = /(?:^| )addr=\S*:(\d+)(?: |$)/.exec(line)?.[1];
    return id && port && ports.has(Number(port)) ? [id] : [];
  });
  for (const id of ids) await admin.client('KILL', 'ID', id);
  return ids.length;
}
