import { describe, expect, it } from 'vitest';
import { StreamPositions, StreamPositionTimeoutError } from '../../src/runtime/stream-positions.js';

describe('StreamPositions', () => {
  it('only moves forward', () => {
    const p = new StreamPositions();
    expect(p.advance('events', 'main', 5)).toBe(true);
    expect(p.advance('events', 'main', 3)).toBe(false);
    expect(p.advance('events', 'main', 5)).toBe(false);
    expect(p.get('events', 'main')).toBe(5);
    expect(p.get('events', 'other')).toBe(0);
  });

  it('restarts an in-memory stream below its token, then moves forward from there', async () => {
    const p = new StreamPositions();
    p.advance('typing', 'main', 40);
    // A wait for the old run's token 45 ends at the restart: that run is gone.
    const old = p.waitFor('typing', 'main', 45, 10_000);
    p.restart('typing', 'main', 2);
    await old;
    expect(p.waiterCount()).toBe(0);
    expect(p.get('typing', 'main')).toBe(2);
    // A wait for the new run's token 3 ends only when it is applied.
    let woken = false;
    const wait = p.waitFor('typing', 'main', 3, 10_000).then(() => (woken = true));
    await Promise.resolve();
    expect(woken).toBe(false);
    expect(p.advance('typing', 'main', 3)).toBe(true);
    await wait;
    expect(woken).toBe(true);
  });

  it('wakes waiters whose token is reached and keeps the others', async () => {
    const p = new StreamPositions();
    const woken: number[] = [];
    const a = p.waitFor('events', 'main', 2, 10_000).then(() => woken.push(2));
    const b = p.waitFor('events', 'main', 4, 10_000).then(() => woken.push(4));
    p.advance('events', 'main', 3);
    await a;
    expect(woken).toEqual([2]);
    expect(p.waiterCount()).toBe(1);
    p.advance('events', 'main', 4);
    await b;
    expect(woken).toEqual([2, 4]);
    expect(p.waiterCount()).toBe(0);
  });

  it('resolves at once for a reached position and times out otherwise, leaving no waiter behind', async () => {
    const p = new StreamPositions();
    p.advance('events', 'main', 1);
    await p.waitFor('events', 'main', 1, 1);
    await expect(p.waitFor('events', 'main', 2, 5)).rejects.toBeInstanceOf(
      StreamPositionTimeoutError,
    );
    expect(p.waiterCount()).toBe(0);
  });
});
