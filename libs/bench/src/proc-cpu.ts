import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const HZ = 100;

/** CPU seconds (user + system) a process has used so far, from /proc; null where /proc is not there. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may hold spaces: count fields after it
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / HZ;
  } catch {
    return null;
  }
}

/** Sum over processes; null if any is unreadable. */
export function cpuSecondsOf(pids: readonly number[]): number | null {
  let sum = 0;
  for (const p of pids) {
    const s = processCpuSeconds(p);
    if (s === null) return null;
    sum += s;
  }
  return sum;
}
