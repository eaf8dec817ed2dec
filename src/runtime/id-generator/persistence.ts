// The Postgres state behind a stream ID generator: the stream's sequence
// (`storesplit_seq_<stream>`, which hands out IDs) and its rows in
// `storesplit_stream_positions` (each writer's finished position, only ever
// moved forward). No bookkeeping here; see tracker.ts and generator.ts.
import { sql, type Kysely } from 'kysely';

const STREAM_NAME = /^[a-z][a-z0-9_]*$/;
const SEQUENCE_PREFIX = 'storesplit_seq_';
/** Postgres truncates identifiers to 63 bytes. */
const MAX_STREAM_NAME = 63 - SEQUENCE_PREFIX.length;

/** A database connection or transaction; the queries here run on either. */
type Executor = Kysely<unknown>;

/** The stream's sequence name; throws for a name that is not `[a-z][a-z0-9_]*` or too long. */
export function sequenceName(stream: string): string {
  if (!STREAM_NAME.test(stream) || stream.length > MAX_STREAM_NAME) {
    throw new Error(
      `invalid stream name ${JSON.stringify(stream)}: use [a-z][a-z0-9_]*, at most ${MAX_STREAM_NAME} characters`,
    );
  }
  return SEQUENCE_PREFIX + stream;
}

/**
 * A stream ID as a JS number. `pg` returns bigint columns as strings, PGlite
 * as number or bigint; anything that is not a non-negative safe integer throws.
 */
export function toStreamId(value: unknown): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string' && /^\d+$/.test(value)) n = Number(value);
  else throw new Error(`not a stream ID: ${String(value)}`);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(`stream ID ${String(value)} is outside the range of safe JS integers`);
  }
  return n;
}

const DUPLICATE_SQLSTATES = new Set([
  '42P07' /* duplicate_table */,
  '23505' /* unique_violation */,
]);

/**
 * Creates the sequence if missing. IDs start at 1 (position 0 means "nothing
 * yet"); CACHE 1 so that every session takes values in the order it asks (a
 * per-session cache would hand out IDs below ones already seen).
 */
export async function createSequence(db: Executor, name: string): Promise<void> {
  try {
    await sql`CREATE SEQUENCE IF NOT EXISTS ${sql.id(name)} AS bigint MINVALUE 1 START WITH 1 CACHE 1`.execute(
      db,
    );
  } catch (error) {
    // Two processes creating it at once: IF NOT EXISTS is not atomic in
    // Postgres, and the loser sees a duplicate in the catalogue.
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !DUPLICATE_SQLSTATES.has(code)) throw error;
  }
  const { rows } = await sql<{
    seqcache: unknown;
  }>`SELECT seqcache FROM pg_sequence WHERE seqrelid = to_regclass(${name})`.execute(db);
  const cache = rows[0] === undefined ? undefined : toStreamId(rows[0].seqcache);
  if (cache !== 1) {
    throw new Error(
      `sequence ${name} must have CACHE 1 (it has ${String(cache)}): ` +
        `with a per-session cache IDs are not handed out in order; run ALTER SEQUENCE ${name} CACHE 1`,
    );
  }
}

/**
 * The last value the sequence handed out, 0 if none; also 0 when the
 * sequence does not exist (a worker that starts before any writer), unless
 * `mustExist`.
 */
export async function readSequence(db: Executor, name: string, mustExist = true): Promise<number> {
  if (!mustExist) {
    const { rows } = await sql<{
      found: unknown;
    }>`SELECT to_regclass(${name}) IS NOT NULL AS found`.execute(db);
    if (rows[0]?.found !== true) return 0;
  }
  const { rows } = await sql<{
    last_value: unknown;
    is_called: boolean;
  }>`SELECT last_value, is_called FROM ${sql.id(name)}`.execute(db);
  const row = rows[0];
  if (!row) throw new Error(`sequence ${name} returned no row`);
  return row.is_called ? toStreamId(row.last_value) : 0;
}

/** `n` new IDs from the sequence in one round trip, ascending. */
export async function nextIds(db: Executor, name: string, n: number): Promise<number[]> {
  const { rows } = await sql<{
    id: unknown;
  }>`SELECT nextval(${name}::regclass) AS id FROM generate_series(1, ${n}::int)`.execute(db);
  if (rows.length !== n)
    throw new Error(`sequence ${name} returned ${rows.length} IDs, expected ${n}`);
  return rows.map((r) => toStreamId(r.id)).sort((a, b) => a - b);
}

/** Every persisted position of the stream, by instance. */
export async function readPositions(db: Executor, stream: string): Promise<Record<string, number>> {
  const { rows } = await sql<{
    instance_name: string;
    stream_id: unknown;
  }>`SELECT instance_name, stream_id FROM storesplit_stream_positions WHERE stream_name = ${stream}`.execute(
    db,
  );
  const positions: Record<string, number> = {};
  for (const row of rows) positions[row.instance_name] = toStreamId(row.stream_id);
  return positions;
}

/** Moves an instance's persisted position forward to `position` (never back). */
export async function persistPosition(
  db: Executor,
  stream: string,
  instance: string,
  position: number,
): Promise<void> {
  await sql`INSERT INTO storesplit_stream_positions (stream_name, instance_name, stream_id)
    VALUES (${stream}, ${instance}, ${position})
    ON CONFLICT (stream_name, instance_name)
    DO UPDATE SET stream_id = GREATEST(storesplit_stream_positions.stream_id, EXCLUDED.stream_id)`.execute(
    db,
  );
}
