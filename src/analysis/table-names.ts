// Table-name normalisation, so that every source of a name (Kysely builder
// strings, raw SQL, stream definitions, schema files) yields the same string:
// lower case, no schema prefix, no alias, and under `naming: "camelCase"` the
// snake_case name Kysely's CamelCasePlugin would send (`pageAccess` →
// `page_access`). The mapping mirrors the plugin's default options; it is
// idempotent on snake_case names, so names already in SQL form pass through.
import type { StoreLintConfig } from './config.js';

export type Naming = StoreLintConfig['naming'];

/** camelCase → snake_case the way CamelCasePlugin does by default. */
export function snakeCase(name: string): string {
  if (name.length === 0) return name;
  let out = name[0]!.toLowerCase();
  for (let i = 1; i < name.length; i++) {
    const ch = name[i]!;
    const lower = ch.toLowerCase();
    const isUpper = ch === ch.toUpperCase() && ch !== lower;
    if (!isUpper) {
      out += ch;
      continue;
    }
    const prev = name[i - 1]!;
    const prevIsUpper = prev === prev.toUpperCase() && prev !== prev.toLowerCase();
    out += prevIsUpper ? lower : `_${lower}`;
  }
  return out;
}

/** A name as written in builder code (`selectFrom('pageAccess')`, `tables: [...]`, `sql.table`). */
export function normaliseBuilderName(name: string, naming: Naming): string {
  return (naming === 'camelCase' ? snakeCase(name) : name).toLowerCase();
}

/** A table named on its own (a stream's `tables`, an app's `writes`): its schema prefix dropped. */
export function normaliseTableName(name: string, naming: Naming): string {
  return normaliseBuilderName(parseTableReference(name).table, naming);
}

/** A name as the Postgres parser returned it (unquoted names are already folded). */
export function normaliseSqlName(name: string): string {
  return name.toLowerCase();
}

export interface TableReference {
  /** The table name as written, without schema and alias. */
  readonly table: string;
  readonly schema: string | null;
  readonly alias: string | null;
}

/**
 * Splits a Kysely table reference string the way Kysely's table parser does:
 * on the exact separator `' as '`, then the table part on `.`.
 */
export function parseTableReference(text: string): TableReference {
  const trimmed = text.trim();
  const asIndex = trimmed.indexOf(' as ');
  const tablePart = asIndex >= 0 ? trimmed.slice(0, asIndex).trim() : trimmed;
  const alias = asIndex >= 0 ? trimmed.slice(asIndex + 4).trim() : null;
  const dot = tablePart.lastIndexOf('.');
  return dot >= 0
    ? { table: tablePart.slice(dot + 1), schema: tablePart.slice(0, dot), alias }
    : { table: tablePart, schema: null, alias };
}

/** A CTE name as written in `with('name(col, …)', …)`. */
export function cteName(text: string): string {
  const paren = text.indexOf('(');
  return (paren >= 0 ? text.slice(0, paren) : text).trim();
}
