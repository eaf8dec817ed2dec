// The streams a process knows by name: what the replication layer announces
// and follows. A name maps to exactly one definition.
import type { StreamDefinition } from './stream.js';

export class StreamRegistry {
  readonly #streams = new Map<string, StreamDefinition>();

  constructor(streams: Iterable<StreamDefinition> = []) {
    for (const stream of streams) this.register(stream);
  }

  /** Adds a stream; registering the same definition twice is harmless, a second definition of one name is a bug. */
  register(stream: StreamDefinition): void {
    const known = this.#streams.get(stream.name);
    if (known && known !== stream) {
      throw new Error(`two different streams are named ${JSON.stringify(stream.name)}`);
    }
    this.#streams.set(stream.name, stream);
  }

  get(name: string): StreamDefinition | undefined {
    return this.#streams.get(name);
  }

  names(): string[] {
    return [...this.#streams.keys()].sort();
  }

  all(): StreamDefinition[] {
    return this.names().map((n) => this.#streams.get(n)!);
  }
}
