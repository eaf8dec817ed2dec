// Collects what the analyser could not resolve (rule `analysis-unresolved`),
// deduplicated by kind, message and place.
import type { SourceLocation, UnresolvedFact, UnresolvedKind } from './model.js';

/** One `UnresolvedSink.add` call's arguments. */
export type UnresolvedAdd = Parameters<UnresolvedSink['add']>;

export class UnresolvedSink {
  readonly #facts = new Map<string, UnresolvedFact>();

  add(
    kind: UnresolvedKind,
    message: string,
    location: SourceLocation,
    context: { store?: string | null; method?: string | null } = {},
  ): void {
    // One place can hold a fact for several methods (a trigger every writer of its table fires).
    const key = `${kind}\0${message}\0${context.store ?? ''}\0${context.method ?? ''}\0${location.file}:${location.line}:${location.column}`;
    if (this.#facts.has(key)) return;
    this.#facts.set(key, {
      kind,
      message,
      store: context.store ?? null,
      method: context.method ?? null,
      location,
    });
  }

  get facts(): UnresolvedFact[] {
    return [...this.#facts.values()];
  }
}

/** A sink that passes what is added on to another, and lists it in order. */
export class RecordingSink extends UnresolvedSink {
  readonly added: UnresolvedAdd[] = [];

  constructor(private readonly target: UnresolvedSink) {
    super();
  }

  override add(...args: UnresolvedAdd): void {
    this.added.push(args);
    this.target.add(...args);
  }

  override get facts(): UnresolvedFact[] {
    return this.target.facts;
  }
}
