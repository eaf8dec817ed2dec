// Test support: hand-built store models for the report's tests, made with the
// lint tests' model builder. `galleryModel` has one of everything the report
// distinguishes: routes through a stream handler, the caches stream, an
// after-commit invalidation and a get-or-create read; uncovered pairs for
// each missing link; an unknown pair; a skipped (suppressed) pair; a stream
// no worker follows.
import type { StoreModel } from '../../src/analysis/model.js';
import { model } from '../lint/model-builder.js';

/** Lines the tests assert on. */
export const G = {
  getReceiptsForRoom: 10,
  getLastReceipt: 12,
  onReceipts: 20,
  onReceiptsLastInvalidation: 23,
  insertReceipt: 40,
  getTagsForRoom: 60,
  addTag: 80,
  getPushRules: 100,
  setPushRule: 120,
  getProfile: 140,
  onProfiles: 150,
  setProfile: 160,
  setProfileInvalidation: 162,
  getPresence: 180,
  onPresence: 190,
  setPresence: 200,
  logAudit: 220,
  getOrCreateDevice: 240,
  deleteDevice: 250,
  getUnreadCount: 270,
  getRoomStats: 280,
  bumpStats: 290,
} as const;

export function galleryModel(): StoreModel {
  return (
    model()
      .schema(
        'receipts',
        'room_tags',
        'push_rules',
        'profiles',
        'presence',
        'audit_log',
        'devices',
        'room_stats',
      )
      .stream('receipts', ['receipts'], { variable: 'ReceiptsStream', line: 3 })
      .stream('presence', ['presence'], { variable: 'PresenceStream', line: 4 })
      .stream('profiles', ['profiles'], { variable: 'ProfilesStream', line: 5 })
      .stream('audit', ['audit_log'], { variable: 'AuditStream', line: 6 })
      // Receipts: covered through the stream; `getLastReceipt` is invalidated with a short key.
      .mixin(
        'ReceiptsWorkerStore',
        (s) =>
          s
            .cached('getReceiptsForRoom', { line: G.getReceiptsForRoom, reads: ['receipts'] })
            .cached('getLastReceipt', { line: G.getLastReceipt, reads: ['receipts'], keyArity: 2 })
            .handler('onReceipts', 'receipts', {
              line: G.onReceipts,
              invalidates: [
                { cache: 'getReceiptsForRoom', line: 22 },
                { cache: 'getLastReceipt', keyArity: 1, line: G.onReceiptsLastInvalidation },
              ],
            }),
        { file: 'src/stores/receipts.ts' },
      )
      .mixin(
        'ReceiptsStore',
        (s) =>
          s.idGen('receiptsIdGen', 'receipts', 35).method('insertReceipt', {
            line: G.insertReceipt,
            writes: ['receipts'],
            allocates: ['receipts'],
          }),
        { composes: ['ReceiptsWorkerStore'], file: 'src/stores/receipts.ts' },
      )
      // Tags: covered through the caches stream.
      .mixin(
        'TagsWorkerStore',
        (s) =>
          s.cached('getTagsForRoom', { line: G.getTagsForRoom, reads: ['room_tags'], keyArity: 2 }),
        { file: 'src/stores/tags.ts' },
      )
      .mixin(
        'TagsStore',
        (s) =>
          s.method('addTag', {
            line: G.addTag,
            writes: ['room_tags'],
            invalidates: [
              { cache: 'getTagsForRoom', kind: 'invalidateCacheAndStream', keyArity: 2 },
            ],
          }),
        { composes: ['TagsWorkerStore'], file: 'src/stores/tags.ts' },
      )
      // Push rules: invalidated after commit on the writer only; announced nowhere.
      .mixin(
        'PushRulesWorkerStore',
        (s) => s.cached('getPushRules', { line: G.getPushRules, reads: ['push_rules'] }),
        { file: 'src/stores/push-rules.ts' },
      )
      .mixin(
        'PushRulesStore',
        (s) =>
          s.method('setPushRule', {
            line: G.setPushRule,
            writes: ['push_rules'],
            invalidates: [{ cache: 'getPushRules', afterCommit: true, inTransaction: false }],
          }),
        { composes: ['PushRulesWorkerStore'], file: 'src/stores/push-rules.ts' },
      )
      // Profiles: the handler forgets the cache; the writer invalidates before commit.
      .mixin(
        'ProfileWorkerStore',
        (s) =>
          s
            .cached('getProfile', { line: G.getProfile, reads: ['profiles'] })
            .handler('onProfiles', 'profiles', { line: G.onProfiles, invalidates: [] }),
        { file: 'src/stores/profiles.ts' },
      )
      .mixin(
        'ProfileStore',
        (s) =>
          s.idGen('profilesIdGen', 'profiles', 155).method('setProfile', {
            line: G.setProfile,
            writes: ['profiles'],
            allocates: ['profiles'],
            invalidates: [
              {
                cache: 'getProfile',
                inTransaction: true,
                afterCommit: false,
                line: G.setProfileInvalidation,
              },
            ],
          }),
        { composes: ['ProfileWorkerStore'], file: 'src/stores/profiles.ts' },
      )
      // Presence: the handler holds something unresolved.
      .mixin(
        'PresenceWorkerStore',
        (s) =>
          s
            .cached('getPresence', { line: G.getPresence, reads: ['presence'] })
            .handler('onPresence', 'presence', { line: G.onPresence, invalidates: [] }),
        { file: 'src/stores/presence.ts' },
      )
      .mixin(
        'PresenceStore',
        (s) =>
          s.idGen('presenceIdGen', 'presence', 195).method('setPresence', {
            line: G.setPresence,
            writes: ['presence'],
            allocates: ['presence'],
          }),
        { composes: ['PresenceWorkerStore'], file: 'src/stores/presence.ts' },
      )
      .unresolved(
        'the invalidation target is not a method reference',
        { file: 'src/stores/presence.ts', line: 191, column: 7, endLine: 191, endColumn: 40 },
        { kind: 'invalidation', store: 'PresenceWorkerStore', method: 'onPresence' },
      )
      // Audit: announced, followed by no worker.
      .mixin(
        'AuditStore',
        (s) =>
          s.idGen('auditIdGen', 'audit', 215).method('logAudit', {
            line: G.logAudit,
            writes: ['audit_log'],
            allocates: ['audit'],
          }),
        { file: 'src/stores/audit.ts' },
      )
      // Devices (writer only): a get-or-create read, and a delete invalidating after commit.
      .mixin(
        'DevicesStore',
        (s) =>
          s
            .cached('getOrCreateDevice', {
              line: G.getOrCreateDevice,
              reads: ['devices'],
              writes: ['devices'],
            })
            .method('deleteDevice', {
              line: G.deleteDevice,
              writes: ['devices'],
              invalidates: [{ cache: 'getOrCreateDevice', afterCommit: true }],
            }),
        { file: 'src/stores/devices.ts' },
      )
      // The pusher caches an unread count of receipts but follows no receipts stream.
      .mixin(
        'ReceiptsCountWorkerStore',
        (s) => s.cached('getUnreadCount', { line: G.getUnreadCount, reads: ['receipts'] }),
        { file: 'src/stores/receipts-count.ts' },
      )
      // Stats: announced nowhere, and the finding is suppressed (approximate counts).
      .mixin(
        'StatsWorkerStore',
        (s) => s.cached('getRoomStats', { line: G.getRoomStats, reads: ['room_stats'] }),
        { file: 'src/stores/stats.ts' },
      )
      .mixin(
        'StatsStore',
        (s) => s.method('bumpStats', { line: G.bumpStats, writes: ['room_stats'] }),
        { composes: ['StatsWorkerStore'], file: 'src/stores/stats.ts' },
      )
      .suppress(
        'unannounced-write',
        'src/stores/stats.ts',
        G.bumpStats + 1,
        'stats are approximate',
      )
      .composition('MainDataStore', [
        'ReceiptsStore',
        'TagsStore',
        'PushRulesStore',
        'ProfileStore',
        'PresenceStore',
        'AuditStore',
        'DevicesStore',
      ])
      .composition('ReaderDataStore', [
        'ReceiptsWorkerStore',
        'TagsWorkerStore',
        'PushRulesWorkerStore',
        'ProfileWorkerStore',
        'PresenceWorkerStore',
        'StatsWorkerStore',
      ])
      .composition('PusherDataStore', [
        'TagsWorkerStore',
        'PushRulesWorkerStore',
        'ReceiptsCountWorkerStore',
        'StatsWorkerStore',
      ])
      // StatsStore joins the writer through its own composition, to show a second writer.
      .composition('StatsWriterStore', ['StatsStore'])
      .app('main', 'writer', 'MainDataStore')
      .app('stats', 'writer', 'StatsWriterStore')
      .app('reader', 'worker', 'ReaderDataStore')
      .app('pusher', 'worker', 'PusherDataStore')
      .build()
  );
}
