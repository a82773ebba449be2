import { RemoteError } from './errors.js';

/**
 * Errors on the wire. A handler error reaches the transport as whatever Nest's exception filter threw:
 * `{status: 'error', message}` for an `RpcException` with a string (or 'Internal server error' for any
 * other exception: Nest hides it and logs it on the server), the object itself for an `RpcException`
 * with an object. It goes into the reply job as JSON: an `Error` becomes `{status, message, name}`, never
 * a stack.
 */
export function toWireError(err: unknown): unknown {
  if (err instanceof Error) return { status: 'error', message: err.message, name: err.name };
  if (typeof err === 'string') return err.length > 0 ? err : 'error';
  if (err !== null && typeof err === 'object') {
    try {
      const copy: unknown = JSON.parse(JSON.stringify(err));
      if (copy !== null && typeof copy === 'object') {
        delete (copy as { stack?: unknown }).stack;
        return copy;
      }
    } catch {
      // circular or otherwise unserialisable: fall through to its string form
    }
  }
  return { status: 'error', message: String(err) };
}

/** Client side: the wire error as a `RemoteError` naming the pattern and the service. */
export function fromWireError(err: unknown, pattern: string, service: string): Error {
  if (err instanceof Error) return err;
  if (typeof err === 'string') return new RemoteError(err, pattern, service, 'error', err);
  if (err !== null && typeof err === 'object') {
    const { message, status } = err as { message?: unknown; status?: unknown };
    const text = typeof message === 'string' ? message : JSON.stringify(err);
    return new RemoteError(text, pattern, service, typeof status === 'string' ? status : undefined, err);
  }
  return new RemoteError(String(err), pattern, service, undefined, err);
}
