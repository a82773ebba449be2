import * as crypto from 'node:crypto';

/**
 * A hash of a component's state, computed like a Merkle tree: each object's hash covers its keys and
 * its children's hashes, memoized by object identity. States are copy-on-write, so after an input
 * only the path that changed is new and everything else is found in the cache: the cost follows the
 * change, not the size of the state (a long run's orchestrator holds its whole plan).
 * Same value, same hash, in every engine; never mutate an object after it was hashed.
 */
const memo = new WeakMap<object, string>();

/** sha1, base64url: Node's one-shot `crypto.hash` where there is one (20.12+: a fifth of the cost of a Hash object per node). */
const sha1: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (text) => (crypto as unknown as { hash(alg: string, data: string, enc: string): string }).hash('sha1', text, 'base64url')
    : (text) => crypto.createHash('sha1').update(text).digest('base64url');

/** Keys as JSON (`"key"`), once per key name: states repeat the same few names. */
const quoted = new Map<string, string>();
function quote(k: string): string {
  let q = quoted.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    // names of fields, and of map keys (pasids, ids): bounded so an odd state cannot grow it without end
    if (quoted.size < 65_536) quoted.set(k, q);
  }
  return q;
}

function node(v: unknown): string {
  if (v === null || typeof v !== 'object') return v === undefined ? 'u' : JSON.stringify(v);
  const hit = memo.get(v);
  if (hit) return hit;
  let text: string;
  if (Array.isArray(v)) text = `[${v.map(node).join(',')}]`;
  else {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    text = '{';
    let first = true;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const x = o[k];
      if (x === undefined) continue;
      text += `${first ? '' : ','}${quote(k)}:${node(x)}`;
      first = false;
    }
    text += '}';
  }
  const h = sha1(text).slice(0, 16);
  memo.set(v, h);
  return h;
}

export function stateHash(state: unknown): string {
  return node(state);
}
