// Resetting an in-memory stream on a worker. In-memory streams (typing) live
// only in the writer's memory, with bounded history; when a worker cannot get
// the rows it missed (the writer restarted, or forgot them), it drops
// everything the stream feeds and starts again from the writer's position.
//
// What a stream "feeds" is not known at run time (store-lint knows it
// statically), so a reset drops every cache of the worker's store, which is
// always safe, and runs the `@onStreamReset(Stream)` methods its mixins
// declare for state that is not a cache (a map of who is typing, say):
//
//   @onStreamReset(TypingStream)
//   resetTyping(): void { this.typing.clear(); }
import { cachesOf } from '../runtime/cache/index.js';
import type { StreamDefinition } from '../runtime/stream.js';

/** A reset handler: receives the writer instance whose rows were lost. */
export type StreamResetHandler = (instance: string) => void;

interface RegisteredResetHandler {
  readonly stream: string;
  readonly fn: StreamResetHandler;
}

const resetHandlers = new WeakMap<object, RegisteredResetHandler[]>();

/**
 * Marks a (synchronous) method of a worker mixin as what to do when `stream`
 * is reset: drop the state the stream's rows built up. Every such method of
 * every mixin in the composition runs.
 */
export function onStreamReset<Row>(stream: StreamDefinition<Row>) {
  return function <This extends object>(
    method: (this: This, instance: string) => void,
    context: ClassMethodDecoratorContext<This, (this: This, instance: string) => void>,
  ): void {
    context.addInitializer(function (this: This) {
      const list = resetHandlers.get(this) ?? [];
      list.push({ stream: stream.name, fn: method });
      resetHandlers.set(this, list);
    });
  };
}

/**
 * Resets `stream` (rows of `instance`) on `store`: runs its `@onStreamReset`
 * handlers (all of them, even if one throws), then drops every entry of every
 * cache of the store. Returns the handlers' errors.
 */
export function resetStream(store: object, stream: string, instance: string): unknown[] {
  const errors: unknown[] = [];
  for (const handler of resetHandlers.get(store) ?? []) {
    if (handler.stream !== stream) continue;
    try {
      handler.fn.call(store, instance);
    } catch (error) {
      errors.push(error);
    }
  }
  cachesOf(store).invalidateEverything();
  return errors;
}
