// The in-memory bookkeeping of a stream ID generator, with no I/O: which IDs
// this instance has allocated and not finished, which sequence fetches are in
// flight, what every writer's position is, and the stream's current ("linear")
// token. The Postgres-backed generator (generator.ts) drives it; the property
// tests drive it directly.
//
// A *position* p for writer W is a claim "every ID that W allocated and that is
// <= p is finished" (committed or rolled back). Each process makes that claim
// only for itself and learns the others' claims (persisted rows at load,
// replication afterwards), so every known position is a true lower bound. The
// current token is the minimum over every writer's position: a reader that
// reads up to it never skips a row that commits later.
//
// This instance's own position:
// - with something in flight (unfinished IDs, or a sequence fetch whose IDs are
//   not yet recorded): just below the smallest ID that may still commit. A fetch
//   that started when the largest ID seen allocated was M returns IDs > M, so it
//   pins the position at M until its IDs are recorded (the #9424 race: another
//   writer's `advance` arriving between the sequence returning IDs and the IDs
//   being recorded must not let the position pass them);
// - with nothing in flight: the largest ID seen allocated anywhere (the claim
//   holds: every ID of ours is finished, and any future one comes from the
//   sequence, which is already past everything seen). So a writer with no rows
//   yet neither holds the others back nor jumps ahead (#16473).

/** What a tracker starts from (see `loadState` in the generator). */
export interface PositionTrackerInit {
  /** This process. */
  instanceName: string;
  /** Instances allowed to write the stream (non-empty). */
  writers: readonly string[];
  /**
   * Known positions of other writers (persisted rows). A configured writer
   * with none starts at the current minimum; the own entry, if present, is
   * ignored in favour of `sequenceValue`.
   */
  positions?: Readonly<Record<string, number>>;
  /**
   * The last value the stream's sequence handed out (0 if none), read before
   * `positions`. It is this instance's own position when it is a writer:
   * nothing of ours is in flight at start-up.
   */
  sequenceValue: number;
}

/** A sequence fetch in flight: pass it back to `endFetch`. */
export interface FetchTicket {
  readonly marker: number;
}

/** Thrown when the tracker is used in a way that would break its invariants. */
export class PositionTrackerError extends Error {
  override name = 'PositionTrackerError';
}

export class PositionTracker {
  readonly instanceName: string;
  readonly writers: readonly string[];
  readonly isWriter: boolean;

  /** This instance's own position; undefined when it is not a writer. */
  #own: number | undefined;
  /** Every other writer's known position. */
  readonly #others = new Map<string, number>();
  /** IDs this instance allocated and has not finished. */
  readonly #unfinished = new Set<number>();
  #minUnfinished = Infinity;
  /** Sequence fetches in flight, each with the largest ID seen when it began. */
  readonly #fetches = new Set<FetchTicket>();
  #minMarker = Infinity;
  #maxSeen: number;
  #current = 0;

  constructor(init: PositionTrackerInit) {
    if (init.writers.length === 0)
      throw new PositionTrackerError('a stream needs at least one writer');
    checkPosition(init.sequenceValue, 'sequence value');
    this.instanceName = init.instanceName;
    this.writers = [...new Set(init.writers)];
    this.isWriter = this.writers.includes(init.instanceName);
    this.#maxSeen = init.sequenceValue;
    const known: Array<[string, number]> = [];
    for (const [instance, position] of Object.entries(init.positions ?? {})) {
      checkPosition(position, `position of ${instance}`);
      if (instance !== init.instanceName) known.push([instance, position]);
      this.#maxSeen = Math.max(this.#maxSeen, position);
    }
    if (this.isWriter) this.#own = init.sequenceValue;
    for (const [instance, position] of known) this.#others.set(instance, position);
    // Configured writers with no known position start at the current minimum:
    // low enough to be safe, and no lower (a writer that has not started yet
    // registers its row before it allocates, so its IDs are above the sequence
    // value read before the rows).
    const floor = Math.min(init.sequenceValue, ...known.map(([, p]) => p));
    for (const writer of this.writers) {
      if (writer !== this.instanceName && !this.#others.has(writer))
        this.#others.set(writer, floor);
    }
    this.#recompute();
  }

  /** The current ("linear") token: no unfinished ID of any writer is at or below it. */
  currentToken(): number {
    return this.#current;
  }

  /** A writer's position; for an instance never heard of, the current token. */
  currentTokenFor(instance: string): number {
    if (instance === this.instanceName && this.#own !== undefined) return this.#own;
    return this.#others.get(instance) ?? this.#current;
  }

  /** This instance's own position, or undefined when it is not a writer. */
  ownPosition(): number | undefined {
    return this.#own;
  }

  /** Every writer's position, this instance's included when it is a writer. */
  positions(): Record<string, number> {
    const result: Record<string, number> = {};
    if (this.#own !== undefined) result[this.instanceName] = this.#own;
    for (const [instance, position] of this.#others) result[instance] = position;
    return result;
  }

  /** The largest ID seen allocated: own allocations, other writers' positions, the sequence at start. */
  maxSeenAllocated(): number {
    return this.#maxSeen;
  }

  /** IDs allocated here and not finished, ascending. */
  unfinishedIds(): number[] {
    return [...this.#unfinished].sort((a, b) => a - b);
  }

  /** True while an ID or a sequence fetch of this instance is in flight. */
  hasInFlight(): boolean {
    return this.#unfinished.size > 0 || this.#fetches.size > 0;
  }

  /** Call before asking the sequence for IDs. */
  beginFetch(): FetchTicket {
    if (!this.isWriter) {
      throw new PositionTrackerError(`${this.instanceName} is not a writer of this stream`);
    }
    const ticket: FetchTicket = { marker: this.#maxSeen };
    this.#fetches.add(ticket);
    this.#minMarker = Math.min(this.#minMarker, ticket.marker);
    return ticket;
  }

  /** True while `ticket`'s fetch has not ended. */
  hasFetch(ticket: FetchTicket): boolean {
    return this.#fetches.has(ticket);
  }

  /**
   * Call when the fetch returned (`ids`, now unfinished) or failed (no `ids`).
   * An ID at or below the fetch's marker means the sequence went backwards;
   * nothing is recorded and PositionTrackerError is thrown.
   */
  endFetch(ticket: FetchTicket, ids: readonly number[] = []): void {
    if (!this.#fetches.delete(ticket)) throw new PositionTrackerError('fetch ended twice');
    if (ticket.marker === this.#minMarker) {
      this.#minMarker = Infinity;
      for (const f of this.#fetches) this.#minMarker = Math.min(this.#minMarker, f.marker);
    }
    try {
      for (const id of ids) {
        checkPosition(id, 'stream ID');
        if (id <= ticket.marker || this.#unfinished.has(id)) {
          throw new PositionTrackerError(
            `the sequence returned ID ${id}, but ID ${ticket.marker} was already seen allocated: ` +
              'the sequence went backwards (restored or reset?)',
          );
        }
      }
      for (const id of ids) {
        this.#unfinished.add(id);
        this.#minUnfinished = Math.min(this.#minUnfinished, id);
        this.#maxSeen = Math.max(this.#maxSeen, id);
      }
    } finally {
      this.#recompute();
    }
  }

  /** Marks own IDs finished (committed or rolled back: a rolled-back ID is a gap). */
  finish(ids: readonly number[]): void {
    for (const id of ids) {
      if (!this.#unfinished.has(id)) throw new PositionTrackerError(`ID ${id} is not in flight`);
    }
    for (const id of ids) this.#unfinished.delete(id);
    if (ids.includes(this.#minUnfinished)) {
      // A loop, not Math.min(...set): a batch can hold more IDs than a call takes arguments.
      this.#minUnfinished = Infinity;
      for (const id of this.#unfinished) this.#minUnfinished = Math.min(this.#minUnfinished, id);
    }
    this.#recompute();
  }

  /**
   * Another writer's position, learnt from replication or the database. Only
   * moves forward; a writer never heard of starts at the current token. Own
   * echoes only raise the largest ID seen.
   */
  advance(instance: string, token: number): void {
    checkPosition(token, `position of ${instance}`);
    this.#maxSeen = Math.max(this.#maxSeen, token);
    if (instance !== this.instanceName || this.#own === undefined) {
      const known = this.#others.get(instance) ?? this.#current;
      if (token > known) this.#others.set(instance, token);
      else if (!this.#others.has(instance)) this.#others.set(instance, known);
    }
    this.#recompute();
  }

  #recompute(): void {
    if (this.#own !== undefined) {
      const next = this.hasInFlight()
        ? Math.min(this.#minUnfinished, this.#minMarker + 1) - 1
        : this.#maxSeen;
      if (next > this.#own) this.#own = next;
    }
    let current = this.#own ?? Infinity;
    for (const position of this.#others.values()) current = Math.min(current, position);
    // Every position only grows, so the minimum does too; the check guards that.
    if (current < this.#current) {
      throw new PositionTrackerError(
        `current token would move back from ${this.#current} to ${current}`,
      );
    }
    this.#current = current;
  }
}

function checkPosition(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new PositionTrackerError(
      `${what} must be a non-negative safe integer, got ${String(value)}`,
    );
  }
}
