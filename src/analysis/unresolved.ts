// Collects what the analyser could not resolve (rule `analysis-unresolved`),
// deduplicated by kind, message and place.
import type { SourceLocation, UnresolvedFact, UnresolvedKind } from './model.js';

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
