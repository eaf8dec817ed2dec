// Errors that become JSON responses: `{ "errcode": "M_…", "error": "…" }`
// (Matrix's shape). Anything else a handler throws is a 500 and is logged.

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    /** Extra response headers (e.g. `Allow` on a 405). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  toJSON(): { errcode: string; error: string } {
    return { errcode: this.errcode, error: this.message };
  }
}

export const badRequest = (message: string, errcode = 'M_INVALID_PARAM') =>
  new HttpError(400, errcode, message);
export const forbidden = (message: string) => new HttpError(403, 'M_FORBIDDEN', message);
export const notFound = (message: string, errcode = 'M_NOT_FOUND') =>
  new HttpError(404, errcode, message);
export const unauthorized = (message: string) => new HttpError(401, 'M_UNAUTHORIZED', message);

/** An error body received from another process, re-thrown as is (status and errcode kept). */
export function fromResponse(status: number, body: unknown): HttpError {
  const b = body as { errcode?: unknown; error?: unknown } | null;
  return new HttpError(
    status,
    typeof b?.errcode === 'string' ? b.errcode : 'M_UNKNOWN',
    typeof b?.error === 'string' ? b.error : `HTTP ${status}`,
  );
}
