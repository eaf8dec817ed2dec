import { describe, expect, it } from 'vitest';
import { cacheNotInvalidatedOnWriter as rule } from '../../../src/lint/rules/cache-not-invalidated-on-writer.js';
import {
  invalidation,
  loc,
  model,
  patchMethod,
  receiptsApp,
  RECEIPTS_LINES as L,
  thisCall,
} from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

const writerOnly = () =>
  model()
    .schema('users')
    .mixin('UserStore', (s) =>
      s
        .cached('getUser', { line: 10, reads: ['users'] })
        .method('renameUser', {
          line: 20,
          writes: ['users'],
          invalidates: [{ cache: 'getUser', line: 23 }],
        })
        .method('prepare', { line: 30, writes: ['users'] }),
    )
    .composition('Main', ['UserStore'])
    .app('main', 'writer', 'Main');

describe('cache-not-invalidated-on-writer', () => {
  it('accepts writes announced on a stream whose handler (in the writer composition) invalidates', () => {
    expect(check(rule, receiptsApp().build())).toEqual([]);
  });

  it('accepts writes that invalidate through the caches stream', () => {
    expect(check(rule, receiptsApp().build()).filter((f) => f.subject.method === 'addTag')).toEqual(
      [],
    );
  });

  it('reports an announced write whose handler does not invalidate, at the write', () => {
    const [f, ...rest] = check(rule, receiptsApp({ handlerInvalidates: [] }).build());
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ messageId: 'noHandler', line: L.insertReceipt + 1 });
    expect(f!.message).toBe(
      '`ReceiptsStore.insertReceipt` (app main) writes `receipts`, which `getReceiptsForRoom` (ReceiptsWorkerStore) reads; ' +
        'it is announced on stream `receipts`, but no `@onReplication(ReceiptsStream)` handler in `MainDataStore` invalidates it, ' +
        'and `insertReceipt` invalidates it neither after commit nor through the caches stream',
    );
  });

  it('reports an unannounced write that does not invalidate locally', () => {
    expect(ids(rule, receiptsApp({ insertAllocates: false }).build())).toEqual([
      ['unannounced', L.insertReceipt + 1],
    ]);
  });

  it('accepts an after-commit local invalidation and skips prepare()', () => {
    expect(check(rule, writerOnly().build())).toEqual([]);
  });

  it('reports at the call that leads to the write when a helper writes', () => {
    const m = model()
      .schema('users')
      .mixin('UserStore', (s) =>
        s
          .cached('getUser', { line: 10, reads: ['users'] })
          .method('renameUser', { line: 20, calls: [{ method: 'updateUserRow', line: 22 }] })
          .method('updateUserRow', { line: 40, writes: ['users'] }),
      )
      .composition('Main', ['UserStore'])
      .app('main', 'writer', 'Main')
      .build();
    expect(check(rule, m).map((f) => [f.messageId, f.line, f.subject.method])).toEqual([
      ['unannounced', 22, 'renameUser'],
    ]);
  });

  it('accepts an invalidation done in a helper the write path calls', () => {
    const m = patchMethod(
      writerOnly()
        .mixin('Helpers', (s) => s.method('dropUser', { line: 50, invalidates: ['getUser'] }))
        .build(),
      'UserStore',
      'renameUser',
      { invalidations: [], calls: [thisCall('dropUser', 'src/stores/UserStore.ts', 24)] },
    );
    // Helpers is not in the composition yet: unknown call, so the rule holds back.
    expect(check(rule, m)).toEqual([]);
  });

  it('reports a write path whose invalidation was removed', () => {
    const m = patchMethod(writerOnly().build(), 'UserStore', 'renameUser', { invalidations: [] });
    expect(ids(rule, m)).toEqual([['unannounced', 21]]);
  });

  it('accepts a cached get-or-create that writes its own table', () => {
    const m = model()
      .schema('room_aliases')
      .mixin('AliasStore', (s) =>
        s.cached('getOrCreateAlias', { reads: ['room_aliases'], writes: ['room_aliases'] }),
      )
      .composition('Main', ['AliasStore'])
      .app('main', 'writer', 'Main')
      .build();
    expect(check(rule, m)).toEqual([]);
  });

  it('stays silent when the write path holds something unresolved', () => {
    const m = writerOnly()
      .unresolved('dynamic table', loc('src/stores/UserStore.ts', 21), {
        store: 'UserStore',
        method: 'renameUser',
      })
      .build();
    expect(check(rule, patchMethod(m, 'UserStore', 'renameUser', { invalidations: [] }))).toEqual(
      [],
    );
  });

  it('treats an invalidation inside the transaction as an invalidation (invalidation-before-commit reports it)', () => {
    const m = patchMethod(writerOnly().build(), 'UserStore', 'renameUser', {
      invalidations: [invalidation('invalidate', 'getUser', 22, { inTransaction: true })],
    });
    expect(check(rule, m)).toEqual([]);
  });

  it('lists every stale cache of the table in one finding', () => {
    const m = model()
      .schema('users')
      .mixin('UserStore', (s) =>
        s
          .cached('getUser', { reads: ['users'] })
          .cached('getUserCount', { reads: ['users'], keyArity: 0 })
          .method('addUser', { line: 40, writes: ['users'] }),
      )
      .composition('Main', ['UserStore'])
      .app('main', 'writer', 'Main')
      .build();
    const [f, ...rest] = check(rule, m);
    expect(rest).toEqual([]);
    expect(f!.message).toContain('which `getUser` (UserStore), `getUserCount` (UserStore) read;');
    expect(f!.message).toContain('invalidates them neither');
  });
});
