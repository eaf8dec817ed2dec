import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defineMemoryStream,
  defineStream,
  pageUpdates,
  type StreamUpdate,
} from '../../src/runtime/stream.js';
import { MemoryStreamSource } from '../../src/runtime/memory-stream.js';

/**
 * A fetcher over an in-memory list, honouring the GetUpdates contract, or
 * (`ignoringTo`) one that forgets its upper bound, an easy mistake to make.
 */
function fetcherOver(rows: readonly StreamUpdate<number>[], ignoringTo = false) {
  let calls = 0;
  const fetch = (from: number, to: number, limit: number) => {
    calls++;
    return Promise.resolve(
      rows.filter((u) => u.token > from && (ignoringTo || u.token <= to)).slice(0, limit),
    );
  };
  return { fetch, calls: () => calls };
}

const sortedUpdates = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer()), { maxLength: 80 })
  .map((pairs) => pairs.map(([token, row]) => ({ token, row })).sort((a, b) => a.token - b.token));

describe('pageUpdates', () => {
  it('pages through every row exactly once, in order, never splitting a token', async () => {
    await fc.assert(
      fc.asyncProperty(
        sortedUpdates,
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 45 }),
        fc.boolean(),
        async (rows, limit, to, ignoringTo) => {
          // Rows past `to` (tokens that may sit above one still being
          // written) never reach a page, even from a fetcher that forgot `to`.
          const { fetch } = fetcherOver(rows, ignoringTo);
          const seen: StreamUpdate<number>[] = [];
          let from = 0;
          for (let pages = 0; ; pages++) {
            expect(pages).toBeLessThan(200);
            const page = await pageUpdates(fetch, from, to, limit);
            expect(page.upTo).toBeGreaterThanOrEqual(from);
            expect(page.upTo).toBeLessThanOrEqual(Math.max(from, to));
            for (const u of page.updates) {
              expect(u.token).toBeGreaterThan(from);
              expect(u.token).toBeLessThanOrEqual(page.upTo);
            }
            // A page holds every row of each token it includes.
            const tokens = new Set(page.updates.map((u) => u.token));
            for (const t of tokens) {
              expect(page.updates.filter((u) => u.token === t).length).toBe(
                rows.filter((u) => u.token === t).length,
              );
            }
            seen.push(...page.updates);
            if (!page.limited) break;
            expect(page.upTo).toBeGreaterThan(from);
            from = page.upTo;
          }
          expect(seen).toEqual(rows.filter((u) => u.token <= to));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('says a range is exhausted without an extra query when under the limit', async () => {
    const { fetch, calls } = fetcherOver([{ token: 1, row: 1 }]);
    expect(await pageUpdates(fetch, 0, 10, 5)).toEqual({
      updates: [{ token: 1, row: 1 }],
      upTo: 10,
      limited: false,
    });
    expect(calls()).toBe(1);
  });

  it('extends a page to the end of a token the limit cut through', async () => {
    const rows = [1, 2, 2, 2, 3].map((token, i) => ({ token, row: i }));
    const page = await pageUpdates(fetcherOver(rows).fetch, 0, 3, 2);
    expect(page).toEqual({ updates: rows.slice(0, 4), upTo: 2, limited: true });
  });

  it('fails a read whose fetcher returns a row at or below `from`, or out of order', async () => {
    const rows = [1, 2, 3].map((token) => ({ token, row: token }));
    const ignoringFrom = (_from: number, _to: number, limit: number) =>
      Promise.resolve(rows.slice(0, limit));
    await expect(pageUpdates(ignoringFrom, 1, 3, 5, "stream kv's getUpdates")).rejects.toThrow(
      "stream kv's getUpdates broke its contract: asked for tokens in (1, 3] in order, it returned token 1 at or below 1",
    );
    const unordered = () => Promise.resolve([...rows].reverse());
    await expect(pageUpdates(unordered, 0, 3, 5)).rejects.toThrow(
      'getUpdates broke its contract: asked for tokens in (0, 3] in order, it returned token 2 after 3',
    );
  });

  it('rejects a limit below one', async () => {
    await expect(pageUpdates(fetcherOver([]).fetch, 0, 1, 0)).rejects.toThrow(RangeError);
  });
});

describe('defineStream', () => {
  it('freezes the definition and validates the name', () => {
    const stream = defineStream({
      name: 'receipts',
      tables: ['receipts_linearized'],
      getUpdates: () => Promise.resolve([]),
    });
    expect(Object.isFrozen(stream)).toBe(true);
    expect(stream.tables).toEqual(['receipts_linearized']);
    expect(() =>
      defineStream({ name: 'Bad Name', tables: [], getUpdates: () => Promise.resolve([]) }),
    ).toThrow(/stream name/);
  });
});

describe('MemoryStreamSource', () => {
  const Typing = defineMemoryStream<{ roomId: string }>({ name: 'typing', maxHistory: 3 });

  it('gives each append a token, runs the hook before listeners, and pages history', () => {
    const order: string[] = [];
    const source = new MemoryStreamSource(Typing, (token) => order.push(`hook ${token}`));
    source.onAdvance((token) => order.push(`listener ${token}`));
    expect(source.append([{ roomId: 'a' }, { roomId: 'b' }])).toBe(1);
    expect(source.append([{ roomId: 'c' }])).toBe(2);
    expect(order).toEqual(['hook 1', 'listener 1', 'hook 2', 'listener 2']);
    expect(source.getPage(0, 2, 10)).toEqual({
      updates: [
        { token: 1, row: { roomId: 'a' } },
        { token: 1, row: { roomId: 'b' } },
        { token: 2, row: { roomId: 'c' } },
      ],
      upTo: 2,
      limited: false,
    });
    expect(source.getPage(0, 2, 1)).toMatchObject({ upTo: 1, limited: true });
  });

  it('announces the rows when the writer-side hook throws, then throws its error', () => {
    const heard: number[] = [];
    const source = new MemoryStreamSource(Typing, (_token, rows) => {
      if (rows.some((r) => r.roomId === 'bad')) throw new Error('handler failed');
    });
    source.onAdvance((token) => heard.push(token));
    expect(() => source.append([{ roomId: 'bad' }])).toThrow('handler failed');
    expect(heard).toEqual([1]);
    expect(source.currentToken()).toBe(1);
    expect(source.getPage(0, 1, 10)).toMatchObject({ updates: [{ token: 1 }], upTo: 1 });
  });

  it('reports lost history once tokens fall out of the window', () => {
    const source = new MemoryStreamSource(Typing);
    for (let i = 0; i < 5; i++) source.append([{ roomId: String(i) }]);
    expect(source.getPage(0, 5, 10)).toEqual({ historyLost: true, earliest: 2 });
    expect(source.getPage(2, 5, 10)).toMatchObject({ upTo: 5, limited: false });
  });
});
