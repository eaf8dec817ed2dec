// A small JSON router over node:http. Routes are `METHOD /path/{param}`;
// parameters are percent-decoded. Whatever goes wrong in a request ends as a
// JSON error response (4xx for the client's mistakes, 500 for ours, logged),
// never as a crash: a malformed path, a body that is not JSON or too large, a
// method the route does not have, a handler that throws.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, badRequest } from './errors.js';

/** Request bodies larger than this are refused with 413. */
export const MAX_BODY_BYTES = 65_536;

export interface RequestContext {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** Aborted when the client goes away (long polls stop waiting). */
  readonly signal: AbortSignal;
  /** The parsed JSON body (undefined when empty); 400 when it is not JSON, 413 when too large. */
  body(): Promise<unknown>;
}

/** A handler's answer: a body (200), or a status and body. */
export type Reply = { readonly status: number; readonly body: unknown };
export type Handler = (ctx: RequestContext) => Promise<Reply | object>;

interface Route {
  readonly method: string;
  readonly name: string;
  readonly segments: readonly string[];
  readonly handler: Handler;
}

export interface RouteStats {
  count: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
}

export function reply(status: number, body: unknown): Reply {
  return { status, body };
}

function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && 'status' in value && 'body' in value;
}

export class Router {
  readonly #routes: Route[] = [];
  readonly #stats = new Map<string, RouteStats>();

  constructor(private readonly log: (message: string, error?: unknown) => void = () => {}) {}

  /** `add('POST', '/v1/rooms/{roomId}/join', handler)`; the route's name is its pattern. */
  add(method: string, pattern: string, handler: Handler): this {
    if (!pattern.startsWith('/')) throw new Error(`route pattern must start with /: ${pattern}`);
    this.#routes.push({
      method,
      name: `${method} ${pattern}`,
      segments: pattern.split('/').slice(1),
      handler,
    });
    return this;
  }

  /** Request counts per route (`unmatched` for the rest). */
  stats(): Record<string, RouteStats> {
    return Object.fromEntries(
      [...this.#stats].map(([k, v]) => [k, { count: v.count, statuses: { ...v.statuses } }]),
    );
  }

  /** The node:http request listener. */
  listener(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => void this.handle(req, res);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    let routeName = 'unmatched';
    let status = 500;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const method = req.method ?? 'GET';
      const path = url.pathname;
      const match = this.#match(method, path);
      routeName = match.route.name;
      const ctx: RequestContext = {
        method,
        path,
        params: match.params,
        query: url.searchParams,
        headers: req.headers,
        signal: controller.signal,
        body: once(() => readJson(req)),
      };
      const result = await match.route.handler(ctx);
      if (isReply(result)) ({ status, body } = result);
      else [status, body] = [200, result];
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        body = error.toJSON();
        headers = { ...error.headers };
      } else {
        this.log(`${req.method} ${req.url}: internal error`, error);
        status = 500;
        body = { errcode: 'M_UNKNOWN', error: 'internal server error' };
      }
    }
    this.#count(routeName, status);
    if (res.destroyed) return;
    const text = JSON.stringify(body ?? {});
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  #match(method: string, path: string): { route: Route; params: Record<string, string> } {
    const segments = path.split('/').slice(1);
    const allowed: string[] = [];
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length) {
      throw new HttpError(405, 'M_UNRECOGNIZED', `method ${method} is not allowed here`, {
        allow: allowed.join(', '),
      });
    }
    throw new HttpError(404, 'M_UNRECOGNIZED', `no such endpoint: ${path}`);
  }

  #count(route: string, status: number): void {
    let stats = this.#stats.get(route);
    if (!stats) this.#stats.set(route, (stats = { count: 0, statuses: {} }));
    stats.count++;
    stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
  }
}

function matchSegments(
  pattern: readonly string[],
  actual: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const a = actual[i]!;
    if (p.startsWith('{') && p.endsWith('}')) {
      if (a === '') return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(a);
      } catch {
        throw badRequest(`malformed percent-encoding in the path: ${a}`);
      }
      params[p.slice(1, -1)] = decoded;
    } else if (p !== a) {
      return undefined;
    }
  }
  return params;
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= fn());
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('the request body is not valid JSON', 'M_NOT_JSON');
  }
}

function tooLarge(): HttpError {
  return new HttpError(
    413,
    'M_TOO_LARGE',
    `the request body is larger than ${MAX_BODY_BYTES} bytes`,
  );
}
