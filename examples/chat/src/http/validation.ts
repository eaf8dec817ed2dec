// Request validation: each function returns the typed value or throws a 400
// naming the field. Identifiers follow Matrix's sigils: `@user[:server]`,
// `!room[:server]`, `$event`. Every process validates what it receives,
// including the writer's internal endpoints (another process is still input).
import { badRequest } from './errors.js';

const USER_ID = /^@[A-Za-z0-9._=+/-]{1,64}(?::[A-Za-z0-9.-]{1,128}(?::\d{1,5})?)?$/;
const ROOM_ID = /^![A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9.-]{1,128})?$/;
const EVENT_ID = /^\$[A-Za-z0-9_-]{1,64}$/;
/** Event, account data and receipt types: `m.room.message`, `org.example.setting`. */
const TYPE_NAME = /^[A-Za-z0-9._-]{1,128}$/;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(
      `${where} must be a JSON object`,
      value === undefined ? 'M_NOT_JSON' : 'M_BAD_JSON',
    );
  }
  return value as Record<string, unknown>;
}

export function string(value: unknown, where: string, maxLength = 1024): string {
  if (typeof value !== 'string') throw badRequest(`${where} must be a string`);
  if (value.length === 0) throw badRequest(`${where} must not be empty`);
  if (value.length > maxLength) throw badRequest(`${where} is longer than ${maxLength} characters`);
  return value;
}

function matching(value: unknown, where: string, pattern: RegExp, what: string): string {
  const s = string(value, where, 256);
  if (!pattern.test(s)) throw badRequest(`${where} is not ${what}: ${JSON.stringify(s)}`);
  return s;
}

export const userId = (value: unknown, where = 'userId') =>
  matching(value, where, USER_ID, 'a user ID (@name or @name:server)');
export const roomId = (value: unknown, where = 'roomId') =>
  matching(value, where, ROOM_ID, 'a room ID (!id or !id:server)');
export const eventId = (value: unknown, where = 'eventId') =>
  matching(value, where, EVENT_ID, 'an event ID ($id)');
export const typeName = (value: unknown, where = 'type') =>
  matching(value, where, TYPE_NAME, 'a type name (letters, digits, ".", "_", "-")');

export function boolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw badRequest(`${where} must be true or false`);
  return value;
}

export function integer(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw badRequest(`${where} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Like `integer`, for an optional field: `fallback` when absent (undefined). */
export function optionalInteger(
  value: unknown,
  where: string,
  min: number,
  max: number,
  fallback: number,
): number {
  return value === undefined ? fallback : integer(value, where, min, max);
}

/** A query parameter holding a non-negative decimal integer, or `fallback` when absent. */
export function queryInteger(
  query: URLSearchParams,
  key: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const raw = query.get(key);
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,16}$/.test(raw)) throw badRequest(`query parameter ${key} must be an integer`);
  return integer(Number(raw), `query parameter ${key}`, min, max);
}

/** A JSON object value (e.g. event content), with a size bound on its text. */
export function jsonObject(value: unknown, where: string, maxBytes = 16_384): Record<string, Json> {
  const o = object(value, where);
  if (Buffer.byteLength(JSON.stringify(o)) > maxBytes) {
    throw badRequest(`${where} is larger than ${maxBytes} bytes`, 'M_TOO_LARGE');
  }
  return o as Record<string, Json>;
}

/** Rejects fields other than `allowed` (typos should not be ignored silently). */
export function onlyKeys(
  o: Record<string, unknown>,
  where: string,
  allowed: readonly string[],
): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key))
      throw badRequest(`${where} has an unknown field ${JSON.stringify(key)}`);
  }
}
