// The quality bar's mutation test: small breaking edits to the clean app
// (test/fixtures/rules/clean-app), each the kind of change that broke
// Synapse's workers, must each be caught by the right rule. The app itself
// must stay clean. Every edit is checked to apply, so a drifting fixture
// cannot turn a mutation into a no-op.
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAnalyzer } from '../../src/lint/analyzer.js';
import { loadConfig } from '../../src/lint/config-loader.js';
import { lint } from '../../src/lint/engine.js';

const APP = fileURLToPath(new URL('../fixtures/rules/clean-app/', import.meta.url));
/** The largest realistic app in the repository, when it is there. */
const CHAT = fileURLToPath(new URL('../../examples/chat/', import.meta.url));
const ROOT_TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

interface Edit {
  readonly file: string;
  readonly find: string | RegExp;
  readonly replace: string;
}

interface Mutation {
  readonly name: string;
  readonly edits: readonly Edit[];
  /** The rule that must report it, and the file and line it must point at. */
  readonly expect: { readonly ruleId: string; readonly file?: string; readonly line?: number };
}

const mutations: readonly Mutation[] = [
  {
    name: 'remove an invalidation from a replication handler',
    edits: [
      {
        file: 'src/stores/rooms.ts',
        find: 'for (const row of rows) this.invalidate(this.getRoomMembers, row.roomId);',
        replace: 'for (const row of rows) void row;',
      },
    ],
    expect: { ruleId: 'cache-not-invalidated-on-worker', file: 'src/stores/rooms.ts', line: 17 },
  },
  {
    name: 'delete a replication handler',
    edits: [
      {
        file: 'src/stores/receipts.ts',
        find: /\n {4}@onReplication\(ReceiptsStream\)\n[\s\S]*?\n {4}\}\n/,
        replace: '\n',
      },
    ],
    expect: { ruleId: 'cache-not-invalidated-on-worker', file: 'src/stores/receipts.ts' },
  },
  {
    name: 'drop a mixin from the worker composition',
    edits: [
      {
        file: 'src/stores/reader.ts',
        find: 'ProfileWorkerStore(TagsWorkerStore(RoomsWorkerStore(',
        replace: 'ProfileWorkerStore(RoomsWorkerStore(',
      },
      {
        file: 'src/stores/reader.ts',
        find: '(SQLBaseStore<DB>)))),',
        replace: '(SQLBaseStore<DB>))),',
      },
    ],
    expect: { ruleId: 'missing-worker-method', file: 'src/apps/reader.ts' },
  },
  {
    name: 'add a write to a worker mixin',
    edits: [
      {
        file: 'src/stores/tags.ts',
        find: '      return rows.map((r) => r.tag);\n    }\n',
        replace:
          "      return rows.map((r) => r.tag);\n    }\n\n    async clearTags(userId: string): Promise<void> {\n      await this.dbConn.deleteFrom('room_tags').where('user_id', '=', userId).execute();\n    }\n",
      },
    ],
    expect: { ruleId: 'worker-writes', file: 'src/stores/tags.ts' },
  },
  {
    name: 'invalidate inside the transaction instead of after commit',
    edits: [
      {
        file: 'src/stores/profiles.ts',
        find: 'await this.invalidateCacheAndStream(txn, this.getDisplayName, userId);',
        replace: 'this.invalidate(this.getDisplayName, userId);',
      },
    ],
    expect: { ruleId: 'invalidation-before-commit', file: 'src/stores/profiles.ts', line: 28 },
  },
  {
    name: 'rename a table in one query',
    edits: [
      { file: 'src/stores/rooms.ts', find: ".selectFrom('rooms')", replace: ".selectFrom('room')" },
    ],
    expect: { ruleId: 'unknown-table', file: 'src/stores/rooms.ts' },
  },
  {
    name: 'call a writer-only method from a worker entry',
    edits: [
      {
        file: 'src/apps/reader.ts',
        find: "import type { ReaderDataStore } from '../stores/reader.js';\n",
        replace:
          "import type { MainDataStore } from '../stores/main.js';\nimport type { ReaderDataStore } from '../stores/reader.js';\n\nexport async function rename(store: MainDataStore, userId: string): Promise<void> {\n  await store.setDisplayName(userId, 'renamed');\n}\n",
      },
    ],
    expect: { ruleId: 'missing-worker-method', file: 'src/apps/reader.ts', line: 5 },
  },
  {
    name: 'drop the caches-stream invalidation of a write',
    edits: [
      {
        file: 'src/stores/tags.ts',
        find: /\n\s*await this\.invalidateCacheAndStream\(txn, this\.getTagsForRoom, userId, roomId\);\n(?=\s*\}\);\n\s*\}\n\n\s*async removeTag)/,
        replace: '\n',
      },
    ],
    expect: { ruleId: 'unannounced-write', file: 'src/stores/tags.ts' },
  },
  {
    name: 'pass a key one argument short',
    edits: [
      {
        file: 'src/stores/tags.ts',
        find: 'this.invalidateCacheAndStream(txn, this.getTagsForRoom, userId, roomId);\n      });\n    }\n  }',
        replace:
          'this.invalidateCacheAndStream(txn, this.getTagsForRoom, userId);\n      });\n    }\n  }',
      },
    ],
    expect: { ruleId: 'invalidation-key-mismatch', file: 'src/stores/tags.ts' },
  },
  {
    name: 'give two cached methods of one composition the same name',
    edits: [
      { file: 'src/stores/profiles.ts', find: 'async getDisplayName(', replace: 'async getRoom(' },
      { file: 'src/stores/profiles.ts', find: 'this.getDisplayName', replace: 'this.getRoom' },
    ],
    expect: { ruleId: 'duplicate-cache-name', file: 'src/stores/profiles.ts', line: 7 },
  },
  {
    name: 'declare a constructor in a mixin',
    edits: [
      {
        file: 'src/stores/tags.ts',
        find: '  abstract class TagsWorkerStore extends Base {\n',
        replace:
          '  abstract class TagsWorkerStore extends Base {\n    constructor(...args: any[]) {\n      super(...args);\n    }\n\n',
      },
    ],
    expect: { ruleId: 'store-constructor', file: 'src/stores/tags.ts', line: 6 },
  },
  {
    name: 'stop allocating a stream ID for a write',
    edits: [
      {
        file: 'src/stores/rooms.ts',
        find: /return this\.membershipIdGen\.withNextId\(async \(streamId\) => \{/,
        replace: 'const streamId = Date.now();\n      {',
      },
      {
        file: 'src/stores/rooms.ts',
        find: /\n {8}return streamId;\n {6}\}\);\n/,
        replace: '\n        return streamId;\n      }\n',
      },
    ],
    expect: { ruleId: 'unannounced-write', file: 'src/stores/rooms.ts' },
  },
];

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'store-lint-mutation-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function lintCopy(name: string, edits: readonly Edit[], app = APP) {
  let dir = join(work, name.replace(/\W+/g, '-'));
  if (app === CHAT) {
    // The chat app's tsconfig extends the repository's: keep the layout.
    await cp(ROOT_TSCONFIG, join(dir, 'tsconfig.json'));
    dir = join(dir, 'examples', 'chat');
  }
  await cp(app, dir, { recursive: true, filter: (src) => !src.includes('node_modules') });
  for (const edit of edits) {
    const path = join(dir, edit.file);
    const before = await readFile(path, 'utf8');
    const after = before.replace(edit.find, edit.replace);
    if (after === before)
      throw new Error(`mutation "${name}": ${String(edit.find)} not found in ${edit.file}`);
    await writeFile(path, after);
  }
  const config = await loadConfig({ cwd: dir });
  const { analyzeProject } = await loadAnalyzer();
  return lint(await analyzeProject(config), { config }).messages;
}

describe('mutations of the clean app', { timeout: 120_000 }, () => {
  it('the unmutated app is clean', async () => {
    expect(await lintCopy('unmutated', [])).toEqual([]);
  });

  for (const m of mutations) {
    it(`catches: ${m.name} (${m.expect.ruleId})`, async () => {
      const found = await lintCopy(m.name, m.edits);
      const hits = found.filter(
        (f) =>
          f.ruleId === m.expect.ruleId &&
          (m.expect.file === undefined || f.location.file === m.expect.file),
      );
      expect(
        hits.map((h) => `${h.ruleId} ${h.location.file}:${h.location.line}`),
        found
          .map((f) => `${f.ruleId} ${f.location.file}:${f.location.line} ${f.message}`)
          .join('\n'),
      ).not.toEqual([]);
      if (m.expect.line !== undefined)
        expect(hits.map((h) => h.location.line)).toContain(m.expect.line);
      // Nothing but error-level findings of known rules; no analysis crash turned into silence.
      expect(found.every((f) => f.ruleId !== 'analysis-unresolved')).toBe(true);
    });
  }
});

const chatMutations: readonly Mutation[] = [
  {
    name: 'chat: remove an invalidation from the receipts handler',
    edits: [
      {
        file: 'src/stores/receipts.ts',
        find: /\n\s*this\.invalidate\(this\.getUsersWithReadReceiptsInRoom, row\.roomId\);/,
        replace: '',
      },
    ],
    expect: { ruleId: 'cache-not-invalidated-on-worker', file: 'src/stores/receipts.ts' },
  },
  {
    name: 'chat: drop the tags mixin from the reader composition',
    edits: [
      {
        file: 'src/stores/compositions.ts',
        find: /export class ReaderDataStore extends [\s\S]*?\) \{\}/,
        replace:
          'export class ReaderDataStore extends NotifierWorkerStore(TypingWorkerStore(PushRulesWorkerStore(' +
          'AccountDataWorkerStore(ReceiptsWorkerStore(RoomMemberWorkerStore(EventsWorkerStore(SQLBaseStore<ChatDB>))))))) {}',
      },
    ],
    // Wherever the reader's API code asks for tags.
    expect: { ruleId: 'missing-worker-method' },
  },
  {
    name: 'chat: write from a worker mixin',
    edits: [
      {
        file: 'src/stores/tags.ts',
        find: '  abstract class TagsWorkerStore extends Base {\n',
        replace:
          "  abstract class TagsWorkerStore extends Base {\n    async dropTags(userId: string): Promise<void> {\n      await this.dbConn.deleteFrom('room_tags').where('user_id', '=', userId).execute();\n    }\n\n",
      },
    ],
    expect: { ruleId: 'worker-writes', file: 'src/stores/tags.ts' },
  },
  {
    name: 'chat: invalidate push rules inside the transaction',
    edits: [
      {
        file: 'src/stores/push-rules.ts',
        find: 'await this.invalidateCacheAndStream(txn, this.getPushRules, userId);',
        replace: 'this.invalidate(this.getPushRules, userId);',
      },
    ],
    expect: { ruleId: 'invalidation-before-commit', file: 'src/stores/push-rules.ts' },
  },
  {
    name: 'chat: rename a table in one query',
    edits: [
      {
        file: 'src/stores/push-rules.ts',
        find: ".insertInto('push_rules')",
        replace: ".insertInto('push_rule')",
      },
    ],
    expect: { ruleId: 'unknown-table', file: 'src/stores/push-rules.ts' },
  },
  {
    name: 'chat: call a writer-only method from the reader entry',
    edits: [
      {
        file: 'src/roles/reader.ts',
        find: /$/,
        replace:
          "\nexport async function tagFromReader(store: import('../stores/compositions.js').MainDataStore): Promise<void> {\n  await store.setTags('@u:chat', '!r:chat', {});\n}\n",
      },
    ],
    expect: { ruleId: 'missing-worker-method', file: 'src/roles/reader.ts' },
  },
];

describe.skipIf(!existsSync(join(CHAT, 'store-lint.config.json')))(
  'mutations of examples/chat',
  { timeout: 180_000 },
  () => {
    it('the unmutated app is clean', async () => {
      expect(await lintCopy('chat-unmutated', [], CHAT)).toEqual([]);
    });

    for (const m of chatMutations) {
      it(`catches: ${m.name} (${m.expect.ruleId})`, async () => {
        const found = await lintCopy(m.name, m.edits, CHAT);
        const hits = found.filter(
          (f) =>
            f.ruleId === m.expect.ruleId &&
            (m.expect.file === undefined || f.location.file === m.expect.file),
        );
        const all = found
          .map((f) => `${f.ruleId} ${f.location.file}:${f.location.line} ${f.message}`)
          .join('\n');
        expect(hits, all).not.toEqual([]);
      });
    }
  },
);
