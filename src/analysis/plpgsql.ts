// The SQL statements inside a PL/pgSQL function body, for what they write.
// libpg-query's build here parses SQL only (no PL/pgSQL parser), so this
// splits the body at its semicolons, peels off PL/pgSQL's own syntax (blocks,
// IF / CASE / loops, exception handlers, declarations, assignments, RAISE,
// RETURN, …) and hands every SQL statement it finds to the Postgres parser,
// with `INTO target` removed the way PL/pgSQL removes it. Anything it cannot
// place — dynamic SQL (`EXECUTE`), an unterminated string, a statement that
// does not parse, a write keyword outside a statement it recognised — is
// returned as a problem, never skipped: the caller must not claim to know
// what such a body writes.

/** What a PL/pgSQL body runs, as far as this splitter can tell. */
export interface PlpgsqlBody {
  /** SQL statements, as PL/pgSQL sends them to the SQL executor. */
  readonly statements: readonly string[];
  /** Functions named in expressions outside those statements (lower case, schema dropped). */
  readonly calls: readonly string[];
  /** Why what the body runs is not fully known, each said of the body (`runs dynamic SQL …`); empty when it is. */
  readonly problems: readonly string[];
}

type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'op' | 'semi' | '(' | ')' | 'other';

interface Token {
  readonly kind: TokenKind;
  /** Lower case for words; the text otherwise. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const OP_CHARS = '+-*/<>=~!@#%^&|`?';

/** Tokens of `text` without comments, or the reason it cannot be read. */
function tokenize(text: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    const start = i;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      let depth = 0;
      while (i < n) {
        if (text[i] === '/' && text[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (text[i] === '*' && text[i + 1] === '/') {
          depth--;
          i += 2;
          if (depth === 0) break;
        } else i++;
      }
      if (depth !== 0) return 'has a comment that is not closed';
      continue;
    }
    if (c === "'" || ((c === 'e' || c === 'E') && text[i + 1] === "'")) {
      const escapes = c !== "'";
      i += escapes ? 2 : 1;
      for (;;) {
        if (i >= n) return 'has a string that is not closed';
        if (escapes && text[i] === '\\') i += 2;
        else if (text[i] === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === "'") break;
        else i++;
      }
      i++;
      tokens.push({ kind: 'string', text: text.slice(start, i), start, end: i });
      continue;
    }
    if (c === '$' && /[0-9]/.test(text[i + 1] ?? '')) {
      i++;
      while (i < n && /[0-9]/.test(text[i]!)) i++;
      tokens.push({ kind: 'other', text: text.slice(start, i), start, end: i });
      continue;
    }
    if (c === '$') {
      const tag = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(text.slice(i));
      if (!tag) return 'has a `$` that is neither a parameter nor a dollar quote';
      const close = text.indexOf(tag[0], i + tag[0].length);
      if (close < 0) return 'has a dollar-quoted string that is not closed';
      i = close + tag[0].length;
      tokens.push({ kind: 'string', text: text.slice(start, i), start, end: i });
      continue;
    }
    if (c === '"') {
      i++;
      for (;;) {
        if (i >= n) return 'has a quoted identifier that is not closed';
        if (text[i] === '"' && text[i + 1] === '"') i += 2;
        else if (text[i] === '"') break;
        else i++;
      }
      i++;
      tokens.push({
        kind: 'ident',
        text: text.slice(start + 1, i - 1).replace(/""/g, '"'),
        start,
        end: i,
      });
      continue;
    }
    if (WORD_START.test(c)) {
      while (i < n && WORD_PART.test(text[i]!)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i).toLowerCase(), start, end: i });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      while (i < n && /[0-9A-Za-z_]/.test(text[i]!)) i++;
      if (text[i] === '.' && text[i + 1] !== '.') {
        i++;
        while (i < n && /[0-9A-Za-z_]/.test(text[i]!)) i++;
      }
      tokens.push({ kind: 'number', text: text.slice(start, i), start, end: i });
      continue;
    }
    if (c === ';' || c === '(' || c === ')') {
      i++;
      tokens.push({ kind: c === ';' ? 'semi' : c, text: c, start, end: i });
      continue;
    }
    if (c === ':' || c === '.') {
      // `:=`, `::` and `..` are one token each.
      const pair = text.slice(i, i + 2);
      i += pair === ':=' || pair === '::' || pair === '..' ? 2 : 1;
      tokens.push({ kind: 'op', text: text.slice(start, i), start, end: i });
      continue;
    }
    if (OP_CHARS.includes(c)) {
      while (i < n && OP_CHARS.includes(text[i]!)) i++;
      tokens.push({ kind: 'op', text: text.slice(start, i), start, end: i });
      continue;
    }
    i++;
    tokens.push({ kind: 'other', text: c, start, end: i });
  }
  return tokens;
}

const isWord = (t: Token | undefined, ...words: string[]): boolean =>
  t?.kind === 'word' && words.includes(t.text);

/**
 * The index of the first `word` at the top level of `tokens[from..]`: outside
 * parentheses and outside SQL `CASE … END` expressions, or -1.
 */
function findTopLevel(tokens: readonly Token[], from: number, ...words: string[]): number {
  let parens = 0;
  let cases = 0;
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === '(') parens++;
    else if (t.kind === ')') parens--;
    else if (parens === 0 && isWord(t, 'case')) cases++;
    else if (parens === 0 && cases > 0 && isWord(t, 'end')) cases--;
    else if (parens === 0 && cases === 0 && isWord(t, ...words)) return i;
  }
  return -1;
}

/** Keywords that change rows or run unseen SQL: outside a recognised statement they are a problem. */
const WRITE_WORDS = new Set([
  'insert',
  'update',
  'delete',
  'merge',
  'truncate',
  'copy',
  'refresh',
  'execute',
  'call',
  'do',
]);

/** PL/pgSQL statements whose expressions are not SQL statements (their function calls count). */
const EXPRESSION_STATEMENTS = new Set([
  'raise',
  'assert',
  'null',
  'exit',
  'continue',
  'get',
  'fetch',
  'move',
  'close',
  'commit',
  'rollback',
]);

/** Splits a PL/pgSQL body into the SQL statements it runs (see the module comment). */
export function plpgsqlStatements(body: string): PlpgsqlBody {
  const tokens = tokenize(body);
  if (typeof tokens === 'string') return { statements: [], calls: [], problems: [tokens] };
  const statements: string[] = [];
  const calls = new Set<string>();
  const problems: string[] = [];

  // Pieces between semicolons at the top level of parentheses.
  const pieces: Token[][] = [];
  let piece: Token[] = [];
  let parens = 0;
  for (const t of tokens) {
    if (t.kind === '(') parens++;
    if (t.kind === ')') parens--;
    if (parens < 0)
      return { statements: [], calls: [], problems: ['has parentheses that do not match'] };
    if (t.kind === 'semi' && parens === 0) {
      pieces.push(piece);
      piece = [];
    } else piece.push(t);
  }
  if (parens !== 0)
    return { statements: [], calls: [], problems: ['has parentheses that do not match'] };
  if (piece.length) pieces.push(piece);

  /** Expressions the body evaluates outside SQL statements: only their function calls matter. */
  const expression = (part: readonly Token[]): void => {
    part.forEach((t, i) => {
      if (t.kind === 'word' && WRITE_WORDS.has(t.text)) {
        problems.push(
          `has \`${t.text.toUpperCase()}\` outside any statement store-lint recognises`,
        );
      }
      if ((t.kind === 'word' || t.kind === 'ident') && part[i + 1]?.kind === '(') {
        calls.add(t.text.toLowerCase());
      }
    });
  };
  const sql = (part: readonly Token[]): void => {
    if (part.length === 0) return;
    if (isWord(part[0], 'execute')) {
      problems.push('runs dynamic SQL (`EXECUTE`)');
      return;
    }
    statements.push(withoutIntoTarget(body, part));
  };

  let declaring = false;
  for (const p of pieces) {
    let at = 0;
    // Peel block and control-flow syntax off the front; what is left is one statement.
    for (;;) {
      const t = p[at];
      if (!t) break;
      if (t.text === '<<' && p[at + 2]?.text === '>>') {
        at += 3; // a label
        continue;
      }
      if (isWord(t, 'declare')) {
        declaring = true;
        at++;
        continue;
      }
      if (isWord(t, 'begin')) {
        declaring = false;
        at++;
        continue;
      }
      if (declaring) break;
      if (isWord(t, 'else', 'loop')) {
        at++;
        continue;
      }
      if (isWord(t, 'if', 'elsif', 'elseif', 'when', 'case')) {
        const then = findTopLevel(p, at + 1, 'then');
        if (then < 0) break;
        expression(p.slice(at + 1, then));
        at = then + 1;
        continue;
      }
      if (isWord(t, 'exception')) {
        at++;
        continue;
      }
      if (isWord(t, 'while', 'foreach')) {
        const loop = findTopLevel(p, at + 1, 'loop');
        if (loop < 0) break;
        expression(p.slice(at + 1, loop));
        at = loop + 1;
        continue;
      }
      if (isWord(t, 'for')) {
        const inAt = findTopLevel(p, at + 1, 'in');
        const loop = inAt < 0 ? -1 : findTopLevel(p, inAt + 1, 'loop');
        if (loop < 0) break;
        forSource(p.slice(inAt + 1, loop));
        at = loop + 1;
        continue;
      }
      break;
    }
    const rest = p.slice(at);
    const first = rest[0];
    if (!first) continue;
    if (declaring) declaration(rest);
    else if (isWord(first, 'end')) continue;
    else if (isWord(first, 'return')) {
      if (isWord(rest[1], 'query')) sql(rest.slice(2));
      else expression(rest.slice(1));
    } else if (isWord(first, 'perform')) {
      if (rest.length > 1) statements.push(`SELECT ${withoutIntoTarget(body, rest.slice(1))}`);
    } else if (isWord(first, 'open')) {
      const forAt = findTopLevel(rest, 1, 'for');
      if (forAt < 0) expression(rest.slice(1));
      else sql(rest.slice(forAt + 1));
    } else if (first.kind === 'word' && EXPRESSION_STATEMENTS.has(first.text)) {
      expression(rest.slice(1));
    } else if (isAssignment(rest)) {
      expression(rest.slice(rest.findIndex((t) => t.kind === 'op' && isAssign(t)) + 1));
    } else sql(rest);
  }

  /** `FOR x IN <source> LOOP`: a query, a range, a cursor, or dynamic SQL. */
  function forSource(source: readonly Token[]): void {
    if (isWord(source[0], 'execute')) {
      problems.push('runs dynamic SQL (`FOR … IN EXECUTE`)');
      return;
    }
    const isRange =
      isWord(source[0], 'reverse') || source.some((t) => t.kind === 'op' && t.text === '..');
    const isCursor =
      (source[0]?.kind === 'word' || source[0]?.kind === 'ident') &&
      (source.length === 1 || source[1]?.kind === '(') &&
      !isWord(source[0], 'select', 'with', 'values', 'table', ...WRITE_WORDS);
    if (isRange || isCursor) expression(source);
    else sql(source);
  }

  /** A declaration: its default is an expression; a cursor's query is a statement. */
  function declaration(decl: readonly Token[]): void {
    const cursor = decl.findIndex((t) => isWord(t, 'cursor'));
    const query = cursor < 0 ? -1 : findTopLevel(decl, cursor + 1, 'for', 'is');
    if (query < 0) expression(decl);
    else {
      expression(decl.slice(0, query));
      sql(decl.slice(query + 1));
    }
  }

  return { statements, calls: [...calls].sort(), problems: [...new Set(problems)] };
}

const isAssign = (t: Token): boolean => t.text === ':=' || t.text === '=';

/** `target := expr` / `target = expr`, the target a variable, a field or an array element. */
function isAssignment(tokens: readonly Token[]): boolean {
  let i = 0;
  if (tokens[i]?.kind !== 'word' && tokens[i]?.kind !== 'ident') return false;
  i++;
  for (;;) {
    const t = tokens[i];
    if (!t) return false;
    if (t.kind === 'op' && isAssign(t)) return true;
    if (t.kind === 'op' && t.text === '.' && ['word', 'ident'].includes(tokens[i + 1]?.kind ?? ''))
      i += 2;
    else if (t.kind === 'other' && t.text === '[') {
      let depth = 0;
      for (; i < tokens.length; i++) {
        if (tokens[i]!.text === '[') depth++;
        if (tokens[i]!.text === ']' && --depth === 0) break;
      }
      i++;
    } else return false;
  }
}

/**
 * The statement's text with its PL/pgSQL `INTO [STRICT] target[, …]` blanked
 * out, as PL/pgSQL does before it runs the statement: the first `INTO` that
 * does not follow `INSERT` or `MERGE` (nor sit in `IMPORT FOREIGN SCHEMA`).
 */
function withoutIntoTarget(body: string, part: readonly Token[]): string {
  const from = part[0]!.start;
  const to = part[part.length - 1]!.end;
  if (isWord(part[0], 'import')) return body.slice(from, to);
  const into = part.findIndex(
    (t, i) => isWord(t, 'into') && !isWord(part[i - 1], 'insert', 'merge'),
  );
  if (into < 0) return body.slice(from, to);
  let i = into + 1;
  if (isWord(part[i], 'strict')) i++;
  const name = (): boolean => {
    if (part[i]?.kind !== 'word' && part[i]?.kind !== 'ident') return false;
    i++;
    while (part[i]?.text === '.' && ['word', 'ident'].includes(part[i + 1]?.kind ?? '')) i += 2;
    return true;
  };
  if (name()) {
    while (part[i]?.text === ',') {
      i++;
      if (!name()) break;
    }
  }
  const end = part[i]?.start ?? to;
  return `${body.slice(from, part[into]!.start)}${' '.repeat(end - part[into]!.start)}${body.slice(end, to)}`;
}
