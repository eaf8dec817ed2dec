// Small helpers shared by the chat stores.
import { randomBytes } from 'node:crypto';
import { writersOf, type ServerContext } from '../../../../src/index.js';

/** The instance that writes `stream` (the chat server has one writer per stream). */
export function streamWriter(hs: ServerContext, stream: string): string {
  return writersOf(hs, stream)[0]!;
}

/** A new opaque identifier with a sigil: `$…` for events, `!…` for rooms. */
export function newId(sigil: '$' | '!'): string {
  return `${sigil}${randomBytes(12).toString('base64url')}`;
}

/** JSON text for a jsonb column. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value);
}

/** Sorts strings in place by code unit (stable across processes and locales) and returns them. */
export function sortStrings<T extends string>(values: T[]): T[] {
  return values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
