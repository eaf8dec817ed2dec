// The shared secret of a replication server: where one is required (any
// listening address beyond loopback) and how it is checked (in constant time,
// over hashes, so that neither the comparison nor the length of the secret
// leaks through timing).
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { isWord } from './codec.js';

/** True for addresses on the loopback interface: 127.0.0.0/8, ::1, `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  const version = isIP(bare);
  if (version === 4) return bare.startsWith('127.');
  if (version === 6) {
    if (bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}

/** Throws unless `secret` can travel in an `AUTH` line (a non-empty word of visible ASCII). */
export function checkSecret(secret: string): void {
  if (!isWord(secret)) {
    throw new TypeError(
      'the replication secret must be one or more visible ASCII characters (no spaces)',
    );
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** A checker for one secret: compares candidates in constant time. */
export function secretChecker(secret: string): (candidate: string) => boolean {
  checkSecret(secret);
  const expected = digest(secret);
  return (candidate) => timingSafeEqual(digest(candidate), expected);
}
