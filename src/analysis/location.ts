// Source locations in the model's convention: project-relative POSIX paths,
// 1-based lines and columns, `endColumn` one past the last character.
import { ts } from './typescript.cjs';
import type { SourceLocation } from './model.js';

export function locationOf(
  sf: ts.SourceFile,
  file: string,
  start: number,
  end: number,
): SourceLocation {
  const s = sf.getLineAndCharacterOfPosition(start);
  const e = sf.getLineAndCharacterOfPosition(Math.max(start, end));
  return {
    file,
    line: s.line + 1,
    column: s.character + 1,
    endLine: e.line + 1,
    endColumn: e.character + 1,
  };
}

export function nodeLocation(
  node: ts.Node,
  file: string,
  sf: ts.SourceFile = node.getSourceFile(),
): SourceLocation {
  return locationOf(sf, file, node.getStart(sf), node.getEnd());
}

export function compareLocations(a: SourceLocation, b: SourceLocation): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.line - b.line ||
    a.column - b.column ||
    a.endLine - b.endLine ||
    a.endColumn - b.endColumn
  );
}
