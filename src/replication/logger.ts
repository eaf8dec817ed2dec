// The replication layer's structured logs (pino). A process passes its own
// logger; the default is silent under a test runner and `info` otherwise, and
// `STORESPLIT_LOG_LEVEL` overrides both.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export function defaultLogger(name: string): Logger {
  const underTest = process.env.VITEST !== undefined || process.env.NODE_ENV === 'test';
  const level = process.env.STORESPLIT_LOG_LEVEL ?? (underTest ? 'silent' : 'info');
  return pino({ name, level });
}
