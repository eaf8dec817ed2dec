// `@onReplication(Stream)` handlers and the one function that applies a batch
// of stream rows to a store: every handler of every mixin in the composition
// runs (synchronously), then the position advances, then waiters wake. Because
// handlers are declared rather than chained through `super`, "forgot to call
// super" and "forgot to advance the position" cannot happen (Synapse #14158).
import type { StreamDefinition } from './stream.js';
import type { StreamPositions } from './stream-positions.js';

/** What a handler receives: the rows of one token, that token, and the writer instance. */
export type ReplicationHandler<Row> = (
  rows: readonly Row[],
  token: number,
  instance: string,
) => void;

interface RegisteredHandler {
  readonly stream: StreamDefinition;
  readonly name: string;
  readonly fn: ReplicationHandler<unknown>;
}

const handlersByStore = new WeakMap<object, RegisteredHandler[]>();

type HandlerMethod<This, Row, R> = (
  this: This,
  rows: readonly Row[],
  token: number,
  instance: string,
) => R;

/**
 * A method returning a promise does not type-check as a handler: the
 * compiler names this string where it refuses the decorator.
 */
type Synchronous<R> =
  R extends PromiseLike<unknown>
    ? 'an @onReplication handler must be synchronous: the position advances when it returns'
    : unknown;

/**
 * Marks a method of a store mixin as the handler for `stream`'s rows. The
 * method must be synchronous: a handler that awaited halfway would leave some
 * caches invalidated and others not when the position advances (#13304). An
 * `async` method is refused by the compiler, and at run time as well.
 */
export function onReplication<Row>(stream: StreamDefinition<Row>) {
  return function <This extends object, R>(
    method: HandlerMethod<This, Row, R> & Synchronous<R>,
    context: ClassMethodDecoratorContext<This, HandlerMethod<This, Row, R>>,
  ): void {
    const name = String(context.name);
    context.addInitializer(function (this: This) {
      const list = handlersByStore.get(this) ?? [];
      list.push({ stream, name, fn: method as ReplicationHandler<unknown> });
      handlersByStore.set(this, list);
    });
  };
}

/** The handlers a store instance has for a stream, base mixins first. */
export function handlersFor(store: object, streamName: string): readonly RegisteredHandler[] {
  return (handlersByStore.get(store) ?? []).filter((h) => h.stream.name === streamName);
}

/** Every stream some handler of this store instance follows. */
export function streamsFollowedBy(store: object): StreamDefinition[] {
  const streams = new Map<string, StreamDefinition>();
  for (const h of handlersByStore.get(store) ?? []) streams.set(h.stream.name, h.stream);
  return [...streams.values()];
}

/** One or more handlers failed; the others still ran and the position still advanced. */
export class ReplicationHandlerError extends Error {
  override name = 'ReplicationHandlerError';
  constructor(
    readonly stream: string,
    readonly token: number,
    readonly causes: readonly unknown[],
  ) {
    super(
      `${causes.length} @onReplication handler(s) for stream ${stream} failed at token ${token}: ` +
        causes.map((c) => (c instanceof Error ? c.message : String(c))).join('; '),
    );
  }
}

function isThenable(value: unknown): boolean {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Applies the rows of one token: runs every handler, then advances
 * `positions` (when given; the writer's position is its ID generator's),
 * which wakes the waiters. A failing handler does not stop the others (one
 * exception must not leave every later cache stale, #4702); the failures are
 * thrown together afterwards.
 */
export function applyStreamBatch<Row>(
  store: object,
  stream: StreamDefinition<Row>,
  instance: string,
  token: number,
  rows: readonly Row[],
  positions?: StreamPositions,
): void {
  const errors: unknown[] = [];
  for (const handler of handlersFor(store, stream.name)) {
    try {
      const result: unknown = handler.fn.call(store, rows, token, instance);
      if (isThenable(result)) {
        // Reported now; what it settles to later is not awaited, and a
        // rejection must not end the process as an unhandled one.
        (result as PromiseLike<unknown>).then(undefined, () => undefined);
        errors.push(
          new Error(
            `@onReplication handler ${handler.name} returned a promise; handlers must be synchronous (its outcome is ignored)`,
          ),
        );
      }
    } catch (error) {
      errors.push(error);
    }
  }
  positions?.advance(stream.name, instance, token);
  if (errors.length) throw new ReplicationHandlerError(stream.name, token, errors);
}

/**
 * Throws what applying several tokens collected: nothing, the one failure,
 * or all of them together (each names its token).
 */
export function throwHandlerFailures(failures: readonly ReplicationHandlerError[]): void {
  if (failures.length === 1) throw failures[0]!;
  if (failures.length > 1) {
    throw new AggregateError(
      failures,
      `@onReplication handlers for stream ${failures[0]!.stream} failed at ${failures.length} tokens: ` +
        failures.map((f) => f.token).join(', '),
    );
  }
}
