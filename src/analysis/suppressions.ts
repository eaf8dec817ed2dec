// Inline suppressions: `// store-lint-disable-next-line rule-a, rule-b -- reason`
// (or the same in a block comment). Only real comments count: the comment
// ranges come from the TypeScript scanner's trivia around nodes, so the
// marker inside a string or template never does. A comment naming no rule
// suppresses every rule on the next line (`ruleId: '*'`); a rule the comment
// names is never that wildcard, even when it is spelled `*`. A comment whose
// first word is another `store-lint-…` (ESLint's `-disable-line`, `-disable`,
// `-enable`, a misspelling) is kept with that word as its `directive`, so
// that it is reported rather than silently suppressing nothing.
import { ts } from './typescript.cjs';
import { locationOf } from './location.js';
import type { Suppression } from './model.js';
import type { ProjectFile } from './project.js';

// JSDoc-style openings count too: `/** marker …` and `/*` then ` * marker …`.
const PATTERN = /^(?:\/\/|\/\*)[\s*]*store-lint-disable-next-line(?=\s|\*\/|$)(.*?)(?:\*\/)?\s*$/s;
/** A comment whose first word is `store-lint-…`: meant as a directive (not `store-lint-baseline.json …`). */
const DIRECTIVE_LIKE = /^(?:\/\/|\/\*)[\s*]*(store-lint-[a-z]+(?:-[a-z]+)*)(?=\s|\*\/|$)/i;
const ALL_RULES = '*';
/** The `*` that JSDoc-style block comments put at the start of each further line. */
const LINE_DECORATION = /\n[ \t]*\*+/g;

/**
 * A named rule as the model keeps it: a name spelled `*` is an unknown rule
 * (reported by `unused-disable`), so it is kept quoted rather than read as
 * the wildcard that would hide every finding on the line.
 */
function namedRule(name: string): string {
  return name === ALL_RULES ? `"${name}"` : name;
}

export function findSuppressions(file: ProjectFile): Suppression[] {
  const { sf, rel } = file;
  const text = sf.text;
  // Only a file that mentions `store-lint-` can hold a directive, or a comment that looks like one.
  if (!/store-lint-/i.test(text)) return [];
  const seen = new Set<number>();
  const out: Suppression[] = [];
  const consider = (range: ts.CommentRange): void => {
    if (seen.has(range.pos)) return;
    seen.add(range.pos);
    const comment = text.slice(range.pos, range.end);
    const match = PATTERN.exec(comment);
    if (!match) {
      const directive = DIRECTIVE_LIKE.exec(comment)?.[1];
      if (directive) {
        const location = locationOf(sf, rel, range.pos, range.end);
        out.push({
          ruleId: '',
          directive,
          reason: null,
          appliesToLine: location.endLine + 1,
          location,
        });
      }
      return;
    }
    // Decoration is not part of the text: left in, a continuation line's `*`
    // was read as a rule name, i.e. as the all-rules wildcard.
    const body = comment.startsWith('/*') ? match[1]!.replace(LINE_DECORATION, '\n') : match[1]!;
    // ` -- ` with any whitespace around it (a tab, as ESLint allows), or at the end.
    const dash = /\s--(\s|$)/.exec(body);
    const rulesPart = (dash ? body.slice(0, dash.index) : body).trim();
    const reasonPart = dash ? body.slice(dash.index + dash[0].length).trim() : '';
    const rules = rulesPart
      .split(/[\s,]+/)
      .filter((r) => r.length > 0)
      .map(namedRule);
    const location = locationOf(sf, rel, range.pos, range.end);
    for (const ruleId of rules.length ? rules : [ALL_RULES]) {
      out.push({
        ruleId,
        reason: reasonPart || null,
        appliesToLine: location.endLine + 1,
        location,
      });
    }
  };
  // Tokens as well as nodes: a comment between the links of a method chain
  // is the trivia of the `.` token, which `forEachChild` never visits.
  // `getChildren` scans a node's tokens in their syntactic context (so a
  // template's text is never read as code); it runs only on files that
  // mention `store-lint-`.
  const visit = (node: ts.Node): void => {
    for (const r of ts.getLeadingCommentRanges(text, node.pos) ?? []) consider(r);
    for (const r of ts.getTrailingCommentRanges(text, node.end) ?? []) consider(r);
    for (const child of node.getChildren(sf)) visit(child);
  };
  visit(sf);
  // Comments after the last statement are the end-of-file token's trivia.
  for (const r of ts.getLeadingCommentRanges(text, sf.endOfFileToken.pos) ?? []) consider(r);
  return out;
}
