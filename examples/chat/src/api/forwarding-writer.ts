// A worker's side of every write: forwards it to the writer's internal
// endpoint (`POST /_internal/write/<op>`), gets back the stream position that
// covers it, and waits until this worker has applied that position
// (`waitForStreamPosition`) before answering, so the client reads its own
// write from this worker's caches (Synapse does the same around its HTTP
// replication calls, #14820).
import { HttpError, fromResponse } from '../http/errors.js';
import { KeyedSamples } from '../metrics.js';
import type { ChatStore } from '../stores/compositions.js';
import {
  parseWriteOutcome,
  type WriteArgs,
  type WriteExecutor,
  type WriteOp,
  type WriteOutcome,
} from './write-ops.js';

export interface ForwardingWriterOptions {
  /** The writer's base URL, e.g. `http://127.0.0.1:8080`. */
  readonly writerUrl: string;
  /** Sent as `Authorization: Bearer <secret>` when set. */
  readonly secret?: string;
  /** How long to wait for replication before answering anyway; default 10 s. */
  readonly waitTimeoutMs?: number;
  /** How long the writer may take; default 30 s. */
  readonly requestTimeoutMs?: number;
  readonly log?: (message: string, error?: unknown) => void;
}

export class ForwardingWriter implements WriteExecutor {
  /** Milliseconds between the writer's answer and this worker applying the write, per stream. */
  readonly waits = new KeyedSamples();
  /** Writes answered although replication had not caught up in time. */
  waitTimeouts = 0;
  readonly #options: ForwardingWriterOptions;

  constructor(
    readonly store: ChatStore,
    options: ForwardingWriterOptions,
  ) {
    this.#options = options;
  }

  async write<Op extends WriteOp>(op: Op, args: WriteArgs[Op]): Promise<WriteOutcome<Op>> {
    const { writerUrl, secret } = this.#options;
    let response: Response;
    try {
      response = await fetch(new URL(`/_internal/write/${op}`, writerUrl), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(secret === undefined ? {} : { authorization: `Bearer ${secret}` }),
        },
        body: JSON.stringify(args),
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs ?? 30_000),
      });
    } catch (error) {
      this.#options.log?.(`forwarding ${op} to the writer failed`, error);
      throw new HttpError(502, 'M_WRITER_UNAVAILABLE', 'the writer cannot be reached');
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new HttpError(502, 'M_WRITER_UNAVAILABLE', 'the writer sent an invalid response');
    }
    if (!response.ok) throw fromResponse(response.status, body);
    const outcome = parseWriteOutcome(body) as WriteOutcome<Op>;
    const started = performance.now();
    try {
      await this.store.waitForStreamPosition(
        outcome.stream,
        outcome.instance,
        outcome.token,
        this.#options.waitTimeoutMs ?? 10_000,
      );
      this.waits.add(outcome.stream, performance.now() - started);
    } catch (error) {
      // The write happened: answer it (a retry would repeat it), but say so in the logs.
      this.waitTimeouts++;
      this.#options.log?.(
        `${op}: replication did not reach ${outcome.stream}/${outcome.instance} ${outcome.token} in time`,
        error,
      );
    }
    return outcome;
  }
}
