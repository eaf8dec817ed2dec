// The real Postgres parser (libpg-query, WASM), loaded once per process.
// Results are cached by text: the same fragment often appears many times.
import { loadModule, parseSync } from 'libpg-query';

let loading: Promise<void> | null = null;
let loaded = false;

export async function ensurePgParser(): Promise<void> {
  if (loaded) return;
  loading ??= loadModule().then(() => {
    loaded = true;
  });
  await loading;
}

/** A JSON node of the parse tree: `{ SelectStmt: {...} }` and friends. */
export type PgNode = Record<string, unknown>;

/** A statement's byte range in the parsed text: from just after the previous `;` (comments included) to its end. */
export interface PgSpan {
  readonly start: number;
  readonly end: number;
}

export type PgParseResult =
  | { readonly ok: true; readonly stmts: readonly PgNode[]; readonly spans: readonly PgSpan[] }
  | { readonly ok: false; readonly message: string; readonly cursor: number };

const cache = new Map<string, PgParseResult>();

/** Parses `text` as Postgres statements. `ensurePgParser()` must have resolved. */
export function parsePg(text: string): PgParseResult {
  const hit = cache.get(text);
  if (hit) return hit;
  let result: PgParseResult;
  try {
    const tree = parseSync(text) as {
      stmts?: { stmt: PgNode; stmt_location?: number; stmt_len?: number }[];
    };
    const stmts = tree.stmts ?? [];
    const bytes = Buffer.byteLength(text);
    result = {
      ok: true,
      stmts: stmts.map((s) => s.stmt),
      // The parser leaves out zeros: the first statement's start, the last one's length (to the end).
      spans: stmts.map((s) => {
        const start = s.stmt_location ?? 0;
        return { start, end: s.stmt_len ? start + s.stmt_len : bytes };
      }),
    };
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    result = {
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      cursor: details?.cursorPosition ?? 0,
    };
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(text, result);
  return result;
}

/**
 * The parser's locations are byte offsets into the UTF-8 text; this maps them
 * to string indices (identity for ASCII text).
 */
export function byteToCharOffsets(text: string): (byteOffset: number) => number {
  if (/^[\x00-\x7f]*$/.test(text)) return (b) => b;
  const starts: number[] = [];
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    starts.push(bytes);
    const code = text.codePointAt(i)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (code >= 0x10000) {
      i++;
      starts.push(bytes);
    }
  }
  return (b) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= b) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
}
