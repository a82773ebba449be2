import { redisUrlsIn } from '../../config/src/index.js';

/**
 * A Redis URL fit to print: its password replaced by `***` (`redis://:s3cret@h:6379/0` →
 * `redis://:***@h:6379/0`, `redis://app:s3cret@h` → `redis://app:***@h`). A user name alone
 * (`redis://s3cret@h`) is replaced too: Redis before ACLs took the password there. Every output, log
 * and state file of the product names Redis through this, never the raw URL (issue 8: the password
 * was printed in clear).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password && !u.username) return url;
    if (u.password) u.password = '***';
    else u.username = '***';
    return u.toString();
  } catch {
    // not a URL we can parse: hide everything between '//' and the last '@' of the authority
    return url.replace(/\/\/[^/?#\s]*@/, '//***@');
  }
}

/** Every Redis URL inside a free text (error messages, log lines), credentials replaced. */
const REDIS_URL_IN_TEXT = /\brediss?(?:\+cluster)?:\/\/[^\s'"`<>]+/gi;

/** Replaces every Redis URL with credentials inside a free text (error messages, log lines). */
export function redactText(text: string): string {
  if (!/rediss?(?:\+cluster)?:\/\//i.test(text)) return text;
  return text.replace(REDIS_URL_IN_TEXT, (m) => {
    // punctuation after a URL in prose (`redis://:pw@h:6379, prefix p`) is not part of it
    const tail = /[),.;:\]}]+$/.exec(m)?.[0] ?? '';
    return redactUrl(m.slice(0, m.length - tail.length)) + tail;
  });
}

/** What of a Redis URL must never be printed: its password (or lone user name), as written and decoded. */
export function secretsOf(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const u = new URL(url);
    const s = u.password || u.username;
    if (!s) return [];
    const decoded = (() => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })();
    return [...new Set([s, decoded])];
  } catch {
    return [];
  }
}

let cachedFor: string | undefined;
let cachedSecrets: string[] = [];

/**
 * `redactText`, and also every literal occurrence of the credentials of the Redis URLs this process
 * was given (VSVA_REDIS_URL, REDIS_URL): ioredis puts the password of a failed AUTH in its error's
 * `command.args`, where no URL surrounds it. Secrets shorter than 4 characters are left to the URL
 * rule (replacing them everywhere would mangle the text).
 */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const urls = redisUrlsIn(env);
  const key = urls.join('\n');
  if (key !== cachedFor) {
    cachedFor = key;
    cachedSecrets = urls.flatMap(secretsOf).filter((s) => s.length >= 4);
  }
  let out = redactText(text);
  for (const s of cachedSecrets) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}
