import { describe, expect, it } from 'vitest';
import { missingWorkerMethod as rule } from '../../../src/lint/rules/missing-worker-method.js';
import { receiptsApp } from '../model-builder.js';
import { check, ids } from '../rule-tester.js';

describe('missing-worker-method', () => {
  it('accepts worker code that calls only methods its composition has', () => {
    expect(check(rule, receiptsApp().build())).toEqual([]);
  });

  it('reports a call to a writer-only method, naming where it is defined', () => {
    const m = receiptsApp({
      readerCalls: [
        { method: 'getReceiptsForRoom', line: 5 },
        { method: 'insertReceipt', line: 9 },
      ],
    }).build();
    const [f, ...rest] = check(rule, m);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ messageId: 'missing', line: 9, file: 'src/apps/reader.ts' });
    expect(f!.message).toBe(
      'app `reader` calls `insertReceipt`, but its composition `ReaderDataStore` lacks it; `insertReceipt` is defined in ' +
        '`ReceiptsStore` (composed into `MainDataStore`)',
    );
  });

  it('names the receiver type when the worker code holds the writer’s composition', () => {
    const m = receiptsApp({ readerCalls: [] })
      .app('reader2', 'worker', 'ReaderDataStore', {
        calls: [{ method: 'addTag', line: 7, receiverType: 'MainDataStore' }],
      })
      .build();
    expect(check(rule, m)[0]!.message).toContain('calls `addTag` on a `MainDataStore`');
  });

  it('reports the methods of a mixin dropped from the worker composition', () => {
    expect(ids(rule, receiptsApp({ readerMixins: ['ReceiptsWorkerStore'] }).build())).toEqual([
      ['missing', 6],
    ]);
  });

  it('ignores base-store members and names no store defines', () => {
    const m = receiptsApp({
      readerCalls: [
        { method: 'close', line: 3 },
        { method: 'waitForStreamPosition', line: 4 },
        { method: 'listen', line: 5 },
      ],
    }).build();
    expect(check(rule, m)).toEqual([]);
  });

  it('stays silent for a worker composed over a mixin the model does not know', () => {
    const m = receiptsApp({ readerMixins: ['ReceiptsWorkerStore', 'ExternalTagsStore'] }).build();
    expect(check(rule, m)).toEqual([]);
  });

  it('does not check writer apps', () => {
    const m = receiptsApp()
      .app('main2', 'writer', 'ReaderDataStore', { calls: ['insertReceipt'] })
      .build();
    expect(check(rule, m)).toEqual([]);
  });
});
