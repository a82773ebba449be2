const COLOR: Record<string, string> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };
const OWN = new Set(['level', 'time', 'service', 'pid', 'component', 'msg', 'err']);

/**
 * One pino record as a human line:
 * `2025-01-01T12:00:00.000Z WARN  host-vtd[4242] BullMqServer: message key=value`, an error's stack
 * on the lines after. ANSI colour on the level only, and only when `colors`.
 */
export function formatTextLine(r: Record<string, unknown>, colors: boolean): string {
  const level = String(r.level ?? 'info');
  const tag = level.toUpperCase().padEnd(5);
  const lvl = colors && COLOR[level] ? `\x1b[${COLOR[level]}m${tag}\x1b[39m` : tag;
  const who = `${String(r.service ?? '?')}[${String(r.pid ?? '?')}]${r.component ? ` ${String(r.component)}` : ''}`;
  const extra = Object.entries(r)
    .filter(([k]) => !OWN.has(k))
    .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('');
  const err = r.err as { stack?: string; message?: string } | undefined;
  const stack = err ? `\n${err.stack ?? err.message ?? JSON.stringify(err)}` : '';
  return `${String(r.time ?? '')} ${lvl} ${who}: ${String(r.msg ?? '')}${extra}${stack}`;
}
