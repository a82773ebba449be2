import { createHash } from 'node:crypto';

/**
 * A hash of a component's state, computed like a Merkle tree: each object's hash covers its keys and
 * its children's hashes, memoized by object identity. States are copy-on-write, so after an input
 * only the path that changed is new and everything else is found in the cache: the cost follows the
 * change, not the size of the state (a long run's orchestrator holds its whole plan).
 * Same value, same hash, in every engine; never mutate an object after it was hashed.
 */
const memo = new WeakMap<object, string>();

function node(v: unknown): string {
  if (v === null || typeof v !== 'object') return v === undefined ? 'u' : JSON.stringify(v);
  const hit = memo.get(v);
  if (hit) return hit;
  let text: string;
  if (Array.isArray(v)) text = `[${v.map(node).join(',')}]`;
  else {
    const o = v as Record<string, unknown>;
    text = `{${Object.keys(o).filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${node(o[k])}`).join(',')}}`;
  }
  const h = createHash('sha1').update(text).digest('base64url').slice(0, 16);
  memo.set(v, h);
  return h;
}

export function stateHash(state: unknown): string {
  return node(state);
}
