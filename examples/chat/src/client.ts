// A client of the chat API (the demo's workload and the tests use it).
// `request` returns any status; the typed helpers throw `ApiError` unless 2xx.
import type { ConsistencyReport } from './consistency.js';
import type { SyncResponse } from './api/sync.js';
import type { ChatEvent } from './stores/events.js';
import type { Receipt } from './stores/receipts.js';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
  }
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

export interface ProcessStats {
  instance: string;
  role: string;
  positions: Record<string, number>;
  requests: Record<string, { count: number; statuses: Record<string, number> }>;
  caches: Record<string, { hits: number; misses: number; invalidations: number; size: number }>;
  activity: Record<string, Array<[number, number]>>;
  syncWakes: number;
  readYourWrites?: {
    waits: Record<string, { count: number; p50: number; p99: number }>;
    timeouts: number;
  };
  consumer?: { position: number; processedEvents: number; notifications: number };
}

export class ChatClient {
  /** Requests sent by this client. */
  requests = 0;

  constructor(
    readonly baseUrl: string,
    readonly options: { secret?: string; name?: string } = {},
  ) {}

  get name(): string {
    return this.options.name ?? this.baseUrl;
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    init: { rawBody?: string; signal?: AbortSignal } = {},
  ): Promise<ApiResponse<T>> {
    this.requests++;
    const headers: Record<string, string> = {};
    if (body !== undefined || init.rawBody !== undefined)
      headers['content-type'] = 'application/json';
    if (this.options.secret !== undefined) headers.authorization = `Bearer ${this.options.secret}`;
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      ...(init.rawBody !== undefined
        ? { body: init.rawBody }
        : body !== undefined
          ? { body: JSON.stringify(body) }
          : {}),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async #ok<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.request<T>(method, path, body, signal ? { signal } : {});
    if (response.status < 200 || response.status > 299) {
      throw new ApiError(response.status, response.body, `${this.name} ${method} ${path}`);
    }
    return response.body;
  }

  createRoom(creator: string, name?: string) {
    return this.#ok<{ roomId: string; token: number }>('POST', '/v1/rooms', {
      creator,
      ...(name ? { name } : {}),
    });
  }

  join(roomId: string, userId: string) {
    return this.#ok<{ roomId: string; eventId: string; token: number }>(
      'POST',
      `/v1/rooms/${enc(roomId)}/join`,
      { userId },
    );
  }

  send(roomId: string, sender: string, body: string, type = 'm.room.message') {
    return this.#ok<{ eventId: string; token: number }>('POST', `/v1/rooms/${enc(roomId)}/send`, {
      sender,
      type,
      content: { msgtype: 'm.text', body },
    });
  }

  receipt(roomId: string, userId: string, eventId: string) {
    return this.#ok<{ token: number }>('POST', `/v1/rooms/${enc(roomId)}/receipt`, {
      userId,
      eventId,
    });
  }

  putAccountData(userId: string, type: string, content: unknown, roomId?: string) {
    const query = roomId ? `?roomId=${enc(roomId)}` : '';
    return this.#ok<{ token: number }>(
      'PUT',
      `/v1/users/${enc(userId)}/account_data/${enc(type)}${query}`,
      content,
    );
  }

  typing(roomId: string, userId: string, typing: boolean, timeout?: number) {
    return this.#ok<{ token: number }>('PUT', `/v1/rooms/${enc(roomId)}/typing/${enc(userId)}`, {
      typing,
      ...(timeout === undefined ? {} : { timeout }),
    });
  }

  members(roomId: string) {
    return this.#ok<{ roomId: string; members: string[] }>(
      'GET',
      `/v1/rooms/${enc(roomId)}/members`,
    );
  }

  messages(roomId: string, options: { limit?: number; from?: string } = {}) {
    const q = new URLSearchParams();
    if (options.limit !== undefined) q.set('limit', String(options.limit));
    if (options.from !== undefined) q.set('from', options.from);
    const query = q.size ? `?${q.toString()}` : '';
    return this.#ok<{ roomId: string; chunk: ChatEvent[]; end: string | null }>(
      'GET',
      `/v1/rooms/${enc(roomId)}/messages${query}`,
    );
  }

  receipts(roomId: string) {
    return this.#ok<{ roomId: string; receipts: Receipt[] }>(
      'GET',
      `/v1/rooms/${enc(roomId)}/receipts`,
    );
  }

  sync(user: string, options: { since?: string; timeout?: number; signal?: AbortSignal } = {}) {
    const q = new URLSearchParams({ user });
    if (options.since !== undefined) q.set('since', options.since);
    if (options.timeout !== undefined) q.set('timeout', String(options.timeout));
    return this.#ok<SyncResponse>('GET', `/v1/sync?${q.toString()}`, undefined, options.signal);
  }

  // Internal endpoints.

  positions() {
    return this.#ok<{ instance: string; role: string; positions: Record<string, number> }>(
      'GET',
      '/_internal/positions',
    );
  }

  /** Waits until this process has applied `stream` up to `token`; throws on timeout. */
  waitFor(stream: string, token: number, options: { instance?: string; timeout?: number } = {}) {
    const q = new URLSearchParams({ stream, token: String(token) });
    if (options.instance) q.set('instance', options.instance);
    if (options.timeout !== undefined) q.set('timeout', String(options.timeout));
    return this.#ok<{ position: number; waitedMs: number }>(
      'GET',
      `/_internal/wait?${q.toString()}`,
    );
  }

  /** Waits until this process has applied every stream up to `positions`. */
  async waitForPositions(positions: Record<string, number>, timeout = 30_000): Promise<void> {
    await Promise.all(
      Object.entries(positions).map(([stream, token]) => this.waitFor(stream, token, { timeout })),
    );
  }

  stats() {
    return this.#ok<ProcessStats>('GET', '/_internal/stats');
  }

  consistency() {
    return this.#ok<ConsistencyReport>('POST', '/_internal/consistency');
  }
}

function enc(value: string): string {
  return encodeURIComponent(value);
}
