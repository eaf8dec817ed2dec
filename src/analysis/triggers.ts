// Triggers in the schema files, and the tables their functions write. A write
// of a table fires the triggers on it that name its kind of statement (a
// write of unknown kind fires them all), and what their functions write is
// written too, in the same statement, whatever the code that wrote the table
// says. A disabled trigger fires for nothing.
//
// A function's tables come from its body: LANGUAGE sql bodies through the
// Postgres parser, PL/pgSQL bodies through `plpgsql.ts`, and the functions
// they call that the schema defines in turn. What cannot be read (dynamic
// SQL, another language, a function the schema does not define) is a gap
// the caller reports, never a silent guess.
import type { WriteKind } from './foreign-keys.js';
import type { SourceLocation } from './model.js';
import { parsePg, type PgNode } from './pg-parser.js';
import { plpgsqlStatements } from './plpgsql.js';
import { routinesInStatements, tablesInStatements } from './sql-tables.js';
import { normaliseSqlName } from './table-names.js';
import type { UnresolvedSink } from './unresolved.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The last part of a qualified name (`[{String: {sval}}, …]`), lower case. */
export function lastName(parts: unknown): string | null {
  const items = list(parts);
  const last = obj(obj(items[items.length - 1])?.String)?.sval;
  return typeof last === 'string' ? last.toLowerCase() : null;
}

/** A type list as text, to tell overloads apart (`int4,text`). */
function signatureOf(types: readonly unknown[]): string {
  return types.map((t) => lastName(obj(t)?.names) ?? '?').join(',');
}

/** A function or procedure as the schema files define it. */
export interface RoutineDef {
  /** Lower case, schema dropped. */
  readonly name: string;
  /** Its argument types (`int4,text`): `CREATE OR REPLACE` replaces the definition of the same signature. */
  readonly signature: string;
  readonly language: string;
  /** `AS '…'`: the body, or a C function's object file. */
  readonly body: string | null;
  /** `BEGIN ATOMIC … END` or `RETURN …`: the body already parsed. */
  readonly sqlBody: PgNode | null;
}

/** The definition a `CreateFunctionStmt` makes, or null when it has no name. */
export function routineDef(stmt: Obj): RoutineDef | null {
  const name = lastName(stmt.funcname);
  if (!name) return null;
  const args = list(stmt.parameters)
    .map((p) => obj(obj(p)?.FunctionParameter))
    .filter(
      (p): p is Obj =>
        p !== null && !['FUNC_PARAM_OUT', 'FUNC_PARAM_TABLE'].includes(String(p.mode)),
    )
    .map((p) => p.argType);
  let language: string | null = null;
  let body: string | null = null;
  for (const option of list(stmt.options)) {
    const def = obj(obj(option)?.DefElem);
    if (def?.defname === 'language') {
      const sval = obj(obj(def.arg)?.String)?.sval;
      if (typeof sval === 'string') language = sval.toLowerCase();
    }
    if (def?.defname === 'as') {
      const first = obj(obj(list(obj(obj(def.arg)?.List)?.items)[0])?.String)?.sval;
      if (typeof first === 'string') body = first;
    }
  }
  const sqlBody = obj(stmt.sql_body);
  return {
    name,
    signature: signatureOf(args),
    // Without LANGUAGE, only a SQL-standard body is allowed.
    language: language ?? 'sql',
    body,
    sqlBody,
  };
}

/** The routines an `ObjectWithArgs` (`DROP FUNCTION f(int)`, `ALTER FUNCTION f RENAME …`) names, or null for all of that name. */
export function objectSignature(node: Obj): { name: string | null; signature: string | null } {
  return {
    name: lastName(node.objname),
    signature: node.args_unspecified === true ? null : signatureOf(list(node.objargs)),
  };
}

/** A trigger as the schema files leave it. */
/** A statement kind a trigger names (`AFTER INSERT OR DELETE`). */
export type TriggerEvent = 'insert' | 'update' | 'delete' | 'truncate';

export interface TriggerDecl {
  readonly name: string;
  /** The table or view it is on, normalised as tables are. */
  readonly table: string;
  /** The function it executes, lower case, schema dropped. */
  readonly function: string;
  /** The statements that fire it. */
  readonly events: readonly TriggerEvent[];
  /** False after `ALTER TABLE … DISABLE TRIGGER` (or `ENABLE REPLICA`: it fires only in replication sessions). */
  readonly enabled: boolean;
  /** Its `CREATE TRIGGER` statement in the schema file. */
  readonly location: SourceLocation;
}

/** The events of a `CreateTrigStmt` (Postgres's TRIGGER_TYPE_* bits). */
export function triggerEvents(bits: unknown): TriggerEvent[] {
  const n = typeof bits === 'number' ? bits : 0;
  const all: [number, TriggerEvent][] = [
    [4, 'insert'],
    [8, 'delete'],
    [16, 'update'],
    [32, 'truncate'],
  ];
  return all.filter(([bit]) => (n & bit) !== 0).map(([, event]) => event);
}

/** Whether a write of `kind` fires `trigger`: a MERGE may insert, update and delete; an unknown write may do anything. */
export function fires(trigger: TriggerDecl, kind: WriteKind): boolean {
  if (kind === 'unknown') return true;
  if (kind === 'merge') return trigger.events.some((e) => e !== 'truncate');
  return trigger.events.includes(kind);
}

/** A trigger with what its function writes. */
export interface TriggerInfo extends TriggerDecl {
  /** Tables its function writes, through the functions it calls, sorted. */
  readonly writes: readonly string[];
  /**
   * Why `writes` may be incomplete, each said of the trigger's function
   * (`runs dynamic SQL (\`EXECUTE\`)`, `calls \`g\`, which …`); empty when it is complete.
   */
  readonly gaps: readonly string[];
}

interface RoutineFacts {
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  readonly calls: readonly { readonly name: string; readonly procedure: boolean }[];
  readonly gaps: readonly string[];
}

const factsMemo = new WeakMap<RoutineDef, RoutineFacts>();

/** What one definition's own body reads, writes and calls. */
function routineFacts(def: RoutineDef): RoutineFacts {
  let facts = factsMemo.get(def);
  if (facts) return facts;
  const reads: string[] = [];
  const writes: string[] = [];
  const calls: { name: string; procedure: boolean }[] = [];
  const gaps: string[] = [];
  const statements = (stmts: readonly PgNode[]): void => {
    for (const t of tablesInStatements(stmts))
      (t.access === 'write' ? writes : reads).push(normaliseSqlName(t.name));
    for (const r of routinesInStatements(stmts)) {
      if (r.kind === 'do') gaps.push('runs a `DO` block');
      else calls.push({ name: r.name, procedure: r.kind === 'procedure' });
    }
  };
  const parse = (text: string): void => {
    const parsed = parsePg(text);
    if (parsed.ok) statements(parsed.stmts);
    else gaps.push(`has a statement that does not parse as Postgres (${parsed.message})`);
  };
  if (def.language === 'sql' && def.sqlBody) statements([def.sqlBody]);
  else if (def.language === 'sql' && def.body !== null) parse(def.body);
  else if (def.language === 'plpgsql' && def.body !== null) {
    const body = plpgsqlStatements(def.body);
    gaps.push(...body.problems);
    for (const name of body.calls) calls.push({ name, procedure: false });
    for (const statement of body.statements) parse(statement);
  } else gaps.push(`is written in LANGUAGE ${def.language}, whose tables store-lint does not see`);
  facts = { reads, writes, calls, gaps };
  factsMemo.set(def, facts);
  return facts;
}

/** What running a routine reads and writes, through the routines it calls. */
export interface RoutineAccess {
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  /**
   * Why `reads` and `writes` may be incomplete, each said of the routine
   * (`runs dynamic SQL (\`EXECUTE\`)`, `calls \`g\`, which …`); empty when complete.
   */
  readonly gaps: readonly string[];
}

/** What calling `name` (every overload) reads and writes, through the routines it calls, by name. */
export function routineAccess(
  name: string,
  routines: ReadonlyMap<string, readonly RoutineDef[]>,
): RoutineAccess {
  const reads = new Set<string>();
  const writes = new Set<string>();
  const gaps: string[] = [];
  // With how each is reached: `calls \`g\`, which calls \`h\`, which `.
  const seen = new Set<string>([name]);
  const queue = [{ name, said: '' }];
  while (queue.length) {
    const { name: next, said } = queue.shift()!;
    for (const def of routines.get(next) ?? []) {
      const facts = routineFacts(def);
      for (const t of facts.reads) reads.add(t);
      for (const t of facts.writes) writes.add(t);
      for (const gap of facts.gaps) gaps.push(said + gap);
      for (const call of facts.calls) {
        if (!routines.get(call.name)?.length) {
          // A built-in function writes nothing; a procedure is the schema's own code.
          if (call.procedure)
            gaps.push(
              `${said}calls procedure \`${call.name}\`, which the schema files do not define`,
            );
          continue;
        }
        if (seen.has(call.name)) continue;
        seen.add(call.name);
        queue.push({ name: call.name, said: `${said}calls \`${call.name}\`, which ` });
      }
    }
  }
  return { reads: [...reads].sort(), writes: [...writes].sort(), gaps: [...new Set(gaps)] };
}

/** Each trigger with what its function writes, by the table it is on. */
export function resolveTriggers(
  triggers: Iterable<TriggerDecl>,
  routines: ReadonlyMap<string, readonly RoutineDef[]>,
): Map<string, TriggerInfo[]> {
  const out = new Map<string, TriggerInfo[]>();
  for (const trigger of triggers) {
    if (!trigger.enabled) continue;
    const access = routineAccess(trigger.function, routines);
    const gaps: string[] = [];
    if (!routines.get(trigger.function)?.length) gaps.push('is not defined in the schema files');
    gaps.push(...access.gaps);
    const info: TriggerInfo = { ...trigger, writes: access.writes, gaps };
    const onTable = out.get(trigger.table);
    if (onTable) onTable.push(info);
    else out.set(trigger.table, [info]);
  }
  for (const list of out.values())
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** A trigger a write fires, with the written table that led to it. */
export interface FiredTrigger {
  readonly trigger: TriggerInfo;
  /** The table the code wrote whose write fires it (directly, or through other triggers and views). */
  readonly from: string;
}

/**
 * Reports the gaps of the triggers a write fires as unresolved facts at each
 * trigger, for the method (`context`) that writes; true when there was one.
 */
export function reportTriggerGaps(
  fired: readonly FiredTrigger[],
  unresolved: UnresolvedSink,
  context: { store: string | null; method: string | null } = { store: null, method: null },
): boolean {
  let any = false;
  for (const { trigger, from } of fired) {
    const on = trigger.table === from ? '' : ` on \`${trigger.table}\``;
    for (const gap of trigger.gaps) {
      any = true;
      unresolved.add(
        'trigger',
        `writing \`${from}\` fires trigger \`${trigger.name}\`${on}, whose function \`${trigger.function}\` ${gap}; the tables it writes are not followed`,
        trigger.location,
        context,
      );
    }
  }
  return any;
}
