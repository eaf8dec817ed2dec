// Raw SQL: Kysely `sql` templates and `sql.raw('…')` texts, parsed with the
// Postgres parser (comments in the SQL are the parser's business, so
// commented-out SQL never counts). Interpolations become placeholders:
// - `${sql.table('t')}` / `${sql.id('t')}` → a placeholder mapped back to the
//   builder name (naming applies, like any builder name);
// - `${sql.raw('text')}` with a literal, and nested `sql` templates → inlined;
// - any other value → an identifier placeholder, which parses wherever a value
//   can stand; if the parser finds one where a table name goes, the table is
//   interpolated and reported unresolved.
// A text that is not a statement is tried as a fragment: an expression, a FROM
// item, a clause after FROM, an ORDER BY item. A text that parses in none of
// those shapes is reported unresolved if it contains a keyword that can
// introduce a table name, and ignored otherwise (`sql\`, \`` separators).
import { ts } from './typescript.cjs';
import { byteToCharOffsets, parsePg } from './pg-parser.js';
import type { WriteKind } from './foreign-keys.js';
import { routinesInStatements, tablesInStatements } from './sql-tables.js';
import { unwrapExpression } from './streams.js';

export interface RawSqlTable {
  readonly name: string;
  /** True when the name came from builder code (`sql.table`), so naming applies. */
  readonly builderName: boolean;
  readonly access: 'read' | 'write';
  /** For a write: the kind of statement (`sql-tables.ts`). */
  readonly kind?: WriteKind;
  readonly start: number;
  readonly end: number;
}

export interface RawSqlProblem {
  readonly message: string;
  readonly start: number;
  readonly end: number;
}

/** A function or procedure the SQL runs, by name, where it is named. */
export interface RawSqlRoutine {
  readonly kind: 'function' | 'procedure';
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

export interface RawSqlResult {
  readonly tables: RawSqlTable[];
  readonly problems: RawSqlProblem[];
  /** What the schema may define as code: whether it reads or writes is decided there. */
  readonly routines: RawSqlRoutine[];
  /** Interpolated expressions the caller should still walk (builders, calls). */
  readonly expressions: ts.Expression[];
}

/** Resolves a non-literal `sql.table(x)` argument to names (via types), or null. */
export type NameResolver = (expr: ts.Expression) => string[] | null;

type Placeholder =
  | { readonly kind: 'table'; readonly names: readonly string[]; readonly node: ts.Node }
  | { readonly kind: 'value'; readonly node: ts.Node };

interface Segment {
  readonly textStart: number;
  readonly textEnd: number;
  readonly srcStart: number;
  readonly srcEnd: number;
}

class SqlTextBuilder {
  text = '';
  readonly segments: Segment[] = [];
  readonly placeholders = new Map<string, Placeholder>();
  readonly expressions: ts.Expression[] = [];
  readonly problems: RawSqlProblem[] = [];

  constructor(
    readonly sf: ts.SourceFile,
    readonly resolveNames: NameResolver,
  ) {}

  appendText(cooked: string, srcStart: number, srcEnd: number): void {
    const raw = this.sf.text.slice(srcStart, srcEnd);
    if (raw === cooked) {
      this.segments.push({
        textStart: this.text.length,
        textEnd: this.text.length + cooked.length,
        srcStart,
        srcEnd,
      });
    } else {
      // Escapes (`\\.`, `\n`, `\u{…}`) and CRLF are shorter cooked than in
      // the source: map each run of the cooked text to its source span.
      for (const run of cookedRuns(raw)) {
        this.segments.push({
          textStart: this.text.length + run.cookedStart,
          textEnd: this.text.length + run.cookedEnd,
          srcStart: srcStart + run.rawStart,
          srcEnd: srcStart + run.rawEnd,
        });
      }
    }
    this.text += cooked;
  }

  appendPlaceholder(placeholder: Placeholder): void {
    const name = `__sl_p${this.placeholders.size}`;
    this.placeholders.set(name, placeholder);
    // Spaces keep adjacent interpolations (`${a}${b}`) separate tokens.
    this.text += ' ';
    const start = placeholder.node.getStart(this.sf);
    this.segments.push({
      textStart: this.text.length,
      textEnd: this.text.length + name.length,
      srcStart: start,
      srcEnd: placeholder.node.getEnd(),
    });
    this.text += `${name} `;
  }

  template(template: ts.TemplateLiteral): void {
    if (ts.isNoSubstitutionTemplateLiteral(template)) {
      this.appendText(template.text, template.getStart(this.sf) + 1, template.getEnd() - 1);
      return;
    }
    this.appendText(
      template.head.text,
      template.head.getStart(this.sf) + 1,
      template.head.getEnd() - 2,
    );
    for (const span of template.templateSpans) {
      this.interpolation(span.expression);
      const lit = span.literal;
      this.appendText(
        lit.text,
        lit.getStart(this.sf) + 1,
        lit.getEnd() - (ts.isTemplateTail(lit) ? 1 : 2),
      );
    }
  }

  interpolation(expr: ts.Expression): void {
    const e = unwrapExpression(expr);
    if (isSqlTemplate(e)) {
      this.template(e.template);
      return;
    }
    const method = sqlHelper(e);
    if (method && ts.isCallExpression(e)) {
      const args = e.arguments;
      const first = args[0] && unwrapExpression(args[0]);
      if (method === 'raw' && first && ts.isStringLiteralLike(first)) {
        this.appendText(first.text, first.getStart(this.sf) + 1, first.getEnd() - 1);
        return;
      }
      if (method === 'table' && first) {
        const names = ts.isStringLiteralLike(first) ? [first.text] : this.resolveNames(first);
        if (names) {
          this.appendPlaceholder({ kind: 'table', names: names.map(lastPart), node: e });
          return;
        }
        this.problems.push({
          message: `the table name in \`${e.getText(this.sf)}\` cannot be resolved`,
          start: e.getStart(this.sf),
          end: e.getEnd(),
        });
        this.appendPlaceholder({ kind: 'table', names: [], node: e });
        return;
      }
      if (
        method === 'id' &&
        args.length > 0 &&
        args.every((a) => ts.isStringLiteralLike(unwrapExpression(a)))
      ) {
        const last = unwrapExpression(args[args.length - 1]!) as ts.StringLiteralLike;
        this.appendPlaceholder({ kind: 'table', names: [last.text], node: e });
        return;
      }
    }
    this.expressions.push(expr);
    // `VALUES ${sql.join(rows)}`: the fragment holds whole rows, so the
    // stand-in must be a row for the text to parse.
    const rows = /\bvalues\s*$/i.test(this.text);
    if (rows) this.text += '(';
    this.appendPlaceholder({ kind: 'value', node: e });
    if (rows) this.text += ')';
  }

  /** Maps a string index of the built text to a source position. */
  sourcePosition(index: number): number {
    for (const s of this.segments) {
      if (index >= s.textStart && index < s.textEnd)
        return Math.min(s.srcEnd, s.srcStart + (index - s.textStart));
    }
    const last = this.segments[this.segments.length - 1];
    return last ? last.srcEnd : 0;
  }
}

interface CookedRun {
  readonly cookedStart: number;
  readonly cookedEnd: number;
  readonly rawStart: number;
  readonly rawEnd: number;
}

/**
 * Splits a template part's raw source into runs that map one to one onto its
 * cooked value: plain text, and each escape sequence or CRLF on its own.
 */
export function cookedRuns(raw: string): CookedRun[] {
  const runs: CookedRun[] = [];
  let cooked = 0;
  let plainRaw = 0;
  let plainCooked = 0;
  const closePlain = (rawAt: number) => {
    if (rawAt > plainRaw)
      runs.push({ cookedStart: plainCooked, cookedEnd: cooked, rawStart: plainRaw, rawEnd: rawAt });
  };
  for (let i = 0; i < raw.length;) {
    let rawLength = 0;
    let cookedLength = 0;
    if (raw[i] === '\r' && raw[i + 1] === '\n') {
      rawLength = 2;
      cookedLength = 1;
    } else if (raw[i] === '\\') {
      const next = raw[i + 1] ?? '';
      if (next === '\r' && raw[i + 2] === '\n') rawLength = 3;
      else if ('\n\r\u2028\u2029'.includes(next)) rawLength = 2;
      else if (next === 'x') {
        rawLength = 4;
        cookedLength = 1;
      } else if (next === 'u' && raw[i + 2] === '{') {
        const close = raw.indexOf('}', i + 3);
        rawLength = (close < 0 ? raw.length : close + 1) - i;
        const point = Number.parseInt(raw.slice(i + 3, close), 16);
        cookedLength = Number.isFinite(point) && point > 0xffff ? 2 : 1;
      } else if (next === 'u') {
        rawLength = 6;
        cookedLength = 1;
      } else {
        rawLength = 2;
        cookedLength = 1;
      }
    }
    if (rawLength === 0) {
      i++;
      cooked++;
      continue;
    }
    closePlain(i);
    runs.push({
      cookedStart: cooked,
      cookedEnd: cooked + cookedLength,
      rawStart: i,
      rawEnd: i + rawLength,
    });
    i += rawLength;
    cooked += cookedLength;
    plainRaw = i;
    plainCooked = cooked;
  }
  closePlain(raw.length);
  return runs;
}

function lastPart(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot >= 0 ? name.slice(dot + 1) : name;
}

/** Per file: local names of Kysely's exports (`import { sql as s }`), and namespace imports of it. */
interface KyselyNames {
  readonly named: ReadonlyMap<string, string>;
  readonly namespaces: ReadonlySet<string>;
}

const kyselyNamesByFile = new WeakMap<ts.SourceFile, KyselyNames>();

function kyselyNames(sf: ts.SourceFile): KyselyNames {
  let found = kyselyNamesByFile.get(sf);
  if (!found) {
    const named = new Map<string, string>();
    const namespaces = new Set<string>();
    for (const stmt of sf.statements) {
      if (!ts.isImportDeclaration(stmt) || !ts.isStringLiteral(stmt.moduleSpecifier)) continue;
      if (stmt.moduleSpecifier.text !== 'kysely') continue;
      const bindings = stmt.importClause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) namespaces.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings))
        for (const el of bindings.elements)
          named.set(el.name.text, (el.propertyName ?? el.name).text);
    }
    found = { named, namespaces };
    kyselyNamesByFile.set(sf, found);
  }
  return found;
}

/**
 * Whether `e` names Kysely's export `name`: by that name (as written in most
 * code, whatever it was imported from), under another name it was imported
 * by from `kysely`, or through a namespace import of it (`k.sql`).
 */
function namesKyselyExport(e: ts.Expression, name: string): boolean {
  if (ts.isIdentifier(e)) {
    return e.text === name || kyselyNames(e.getSourceFile()).named.get(e.text) === name;
  }
  return (
    ts.isPropertyAccessExpression(e) &&
    e.name.text === name &&
    ts.isIdentifier(e.expression) &&
    kyselyNames(e.getSourceFile()).namespaces.has(e.expression.text)
  );
}

/** `sql\`…\`` or `sql<T>\`…\``. */
export function isSqlTemplate(node: ts.Node): node is ts.TaggedTemplateExpression {
  return ts.isTaggedTemplateExpression(node) && namesKyselyExport(node.tag, 'sql');
}

/**
 * `sql.raw`, `sql.table`, `sql.id`, …: the helper's name for a call on the
 * `sql` tag. Kysely's `CompiledQuery.raw(text, parameters)`, a statement run
 * with `executeQuery`, is `raw` too.
 */
export function sqlHelper(node: ts.Node): string | null {
  if (!ts.isCallExpression(node)) return null;
  const callee = node.expression;
  if (!ts.isPropertyAccessExpression(callee)) return null;
  if (namesKyselyExport(callee.expression, 'sql')) return callee.name.text;
  return callee.name.text === 'raw' && namesKyselyExport(callee.expression, 'CompiledQuery')
    ? 'raw'
    : null;
}

const FRAGMENT_SHAPES: readonly (readonly [string, string])[] = [
  ['', ''],
  ['SELECT ', ''],
  ['SELECT * FROM ', ''],
  ['SELECT * FROM __sl_frag ', ''],
  ['SELECT * FROM __sl_frag ORDER BY ', ''],
];

const TABLE_KEYWORDS = /\b(from|join|into|update|table|using|truncate|copy|merge|refresh)\b/i;

function analyse(builder: SqlTextBuilder): RawSqlResult {
  const text = builder.text;
  const tables: RawSqlTable[] = [];
  const problems = [...builder.problems];
  let firstError: string | null = null;
  for (const [prefix, suffix] of FRAGMENT_SHAPES) {
    const full = prefix + text + suffix;
    const parsed = parsePg(full);
    if (!parsed.ok) {
      firstError ??= parsed.message;
      continue;
    }
    const toChar = byteToCharOffsets(full);
    for (const ref of tablesInStatements(parsed.stmts)) {
      if (ref.name === '__sl_frag') continue;
      const at = ref.offset >= 0 ? Math.max(0, toChar(ref.offset) - prefix.length) : 0;
      const start = builder.sourcePosition(at);
      const placeholder = builder.placeholders.get(ref.name);
      if (!placeholder) {
        tables.push({
          name: ref.name,
          builderName: false,
          access: ref.access,
          ...(ref.kind ? { kind: ref.kind } : {}),
          start,
          end: start + ref.name.length,
        });
      } else if (placeholder.kind === 'table') {
        for (const name of placeholder.names) {
          tables.push({
            name,
            builderName: true,
            access: ref.access,
            ...(ref.kind ? { kind: ref.kind } : {}),
            start: placeholder.node.getStart(),
            end: placeholder.node.getEnd(),
          });
        }
      } else {
        problems.push({
          message: `raw SQL interpolates \`${placeholder.node.getText()}\` where a table name goes; the table cannot be resolved`,
          start: placeholder.node.getStart(),
          end: placeholder.node.getEnd(),
        });
      }
    }
    const routines: RawSqlRoutine[] = [];
    for (const r of routinesInStatements(parsed.stmts)) {
      const at = r.offset >= 0 ? Math.max(0, toChar(r.offset) - prefix.length) : 0;
      const start = builder.sourcePosition(at);
      if (r.kind === 'do') {
        problems.push({
          message: 'raw SQL runs a `DO` block, whose tables store-lint does not see',
          start,
          end: start + 2,
        });
      } else routines.push({ kind: r.kind, name: r.name, start, end: start + r.name.length });
    }
    return { tables, problems, routines, expressions: builder.expressions };
  }
  if (TABLE_KEYWORDS.test(text)) {
    const first = builder.segments[0];
    const last = builder.segments[builder.segments.length - 1];
    problems.push({
      message: `raw SQL does not parse as Postgres (${firstError ?? 'unknown error'}); the tables it names are unknown`,
      start: first ? first.srcStart : 0,
      end: last ? last.srcEnd : 0,
    });
  }
  return { tables, problems, routines: [], expressions: builder.expressions };
}

export function analyseSqlTemplate(
  node: ts.TaggedTemplateExpression,
  resolveNames: NameResolver,
): RawSqlResult {
  const builder = new SqlTextBuilder(node.getSourceFile(), resolveNames);
  builder.template(node.template);
  return analyse(builder);
}

/** `sql.raw('select … from t')` with a literal text. */
export function analyseSqlText(
  literal: ts.StringLiteralLike,
  resolveNames: NameResolver,
): RawSqlResult {
  const sf = literal.getSourceFile();
  const builder = new SqlTextBuilder(sf, resolveNames);
  builder.appendText(literal.text, literal.getStart(sf) + 1, literal.getEnd() - 1);
  return analyse(builder);
}
