/**
 * Errors the BullMQ transport hands to callers. Each names the pattern and the target service, so a
 * failure in a multi-service run says where it happened without a stack trace from another process.
 */

/** Base class: anything the transport itself (not a remote handler) reports. */
export class TransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No final reply arrived within the client's `timeoutMs`. */
export class RequestTimeoutError extends TransportError {
  constructor(
    readonly pattern: string,
    readonly service: string,
    readonly timeoutMs: number,
  ) {
    super(`request '${pattern}' to service '${service}' timed out after ${timeoutMs} ms`);
  }
}

/** The client was closed while the request was still waiting for its reply. */
export class ClientClosedError extends TransportError {
  constructor(
    readonly pattern: string,
    readonly service: string,
  ) {
    super(`client closed: request '${pattern}' to service '${service}' got no reply`);
  }
}

/**
 * The remote handler failed (or no handler exists for the pattern). `message` is the remote message as
 * is; `status` is Nest's error status when the remote sent one (usually 'error').
 */
export class RemoteError extends TransportError {
  constructor(
    message: string,
    readonly pattern: string,
    readonly service: string,
    readonly status?: string,
    /** the error object as it came over the wire */
    readonly remote?: unknown,
  ) {
    super(message);
  }
}

/** Bad options (queue names with ':', empty prefix, …): thrown at construction, never at run time. */
export class TransportConfigError extends TransportError {}
