// The chat server's app compositions, one per process role (DESIGN.md:
// "app composition"). Each is constructible as `new X(dbConn, hs)`; open one
// with `openStore(X, db, hs)`. Every role serves the same HTTP API, so the
// reader's mixins are in all three.
//
// - MainDataStore: the writer. Writer mixins (each extends its worker mixin).
// - ReaderDataStore: a worker serving reads from its caches.
// - ConsumerDataStore: a worker that also follows the events stream as a
//   push sender, keeping its progress in its own table.
import { SQLBaseStore } from '../../../../src/index.js';
import type { ChatDB } from '../db.js';
import { AccountDataStore, AccountDataWorkerStore } from './account-data.js';
import { ConsumerPositionStore } from './consumer-positions.js';
import { EventsStore, EventsWorkerStore } from './events.js';
import { NotifierWorkerStore } from './notifier.js';
import { PushRulesStore, PushRulesWorkerStore } from './push-rules.js';
import { ReceiptsStore, ReceiptsWorkerStore } from './receipts.js';
import { RoomMemberStore, RoomMemberWorkerStore } from './room-members.js';
import { TagsStore, TagsWorkerStore } from './tags.js';
import { TypingStore, TypingWorkerStore } from './typing.js';

export class MainDataStore extends NotifierWorkerStore(
  TypingStore(
    PushRulesStore(
      TagsStore(
        AccountDataStore(ReceiptsStore(RoomMemberStore(EventsStore(SQLBaseStore<ChatDB>)))),
      ),
    ),
  ),
) {}

export class ReaderDataStore extends NotifierWorkerStore(
  TypingWorkerStore(
    PushRulesWorkerStore(
      TagsWorkerStore(
        AccountDataWorkerStore(
          ReceiptsWorkerStore(RoomMemberWorkerStore(EventsWorkerStore(SQLBaseStore<ChatDB>))),
        ),
      ),
    ),
  ),
) {}

export class ConsumerDataStore extends ConsumerPositionStore(
  NotifierWorkerStore(
    TypingWorkerStore(
      PushRulesWorkerStore(
        TagsWorkerStore(
          AccountDataWorkerStore(
            ReceiptsWorkerStore(RoomMemberWorkerStore(EventsWorkerStore(SQLBaseStore<ChatDB>))),
          ),
        ),
      ),
    ),
  ),
) {}

/** Any chat composition: what the read side of the API needs. */
export type ChatStore = ReaderDataStore;
