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
