// Positions in raw SQL: the SQL parser reads a template's cooked text, but a
// diagnostic must point into the source, where escapes and CRLF are longer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cookedRuns } from '../../src/analysis/raw-sql.js';
import { ts } from '../../src/analysis/typescript.cjs';

/** What TypeScript cooks a template's raw source to. */
function cook(raw: string): string {
  const sf = ts.createSourceFile('t.ts', `\`${raw}\``, ts.ScriptTarget.Latest, true);
  const statement = sf.statements[0] as ts.ExpressionStatement;
  return (statement.expression as ts.NoSubstitutionTemplateLiteral).text;
}

const piece = fc.oneof(
  fc.constantFrom('a', 'SELECT ', "'", '.', ' ', '\n', '\r\n', 'é', '😀'),
  fc.constantFrom(
    '\\\\',
    '\\.',
    '\\n',
    '\\t',
    '\\`',
    '\\$',
    '\\x41',
    '\\u00e9',
    '\\u{1F600}',
    '\\u{41}',
    '\\0',
    '\\\n',
    '\\\r\n',
  ),
);

describe('cookedRuns', () => {
  it('maps every run of the cooked text onto the source it came from', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
        const raw = pieces.join('');
        const cooked = cook(raw);
        const runs = cookedRuns(raw);
        let cookedAt = 0;
        let rawAt = 0;
        for (const run of runs) {
          expect([run.cookedStart, run.rawStart]).toEqual([cookedAt, rawAt]);
          expect(cook(raw.slice(run.rawStart, run.rawEnd))).toBe(
            cooked.slice(run.cookedStart, run.cookedEnd),
          );
          cookedAt = run.cookedEnd;
          rawAt = run.rawEnd;
        }
        expect([cookedAt, rawAt]).toEqual([cooked.length, raw.length]);
      }),
      { numRuns: 500 },
    );
  });
});
