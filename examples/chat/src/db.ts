// The chat server's tables (schema/*.sql) as Kysely types, and opening a
// migrated database. Postgres `bigint` arrives as a string from `pg` and as a
// number from PGlite, and `jsonb` is written as JSON text; stores convert both
// so that every cached value is the same whatever the backend.
import { fileURLToPath } from 'node:url';
import type { ColumnType } from 'kysely';
import {
  createDatabase,
  migrate,
  RUNTIME_SCHEMA,
  type DatabaseHandle,
  type MigrationSource,
} from '../../../src/index.js';

/** An int8 column: read as string or number, written as a number. */
type Int8 = ColumnType<string | number, number, number>;
/** A jsonb column: read as parsed JSON, written as JSON text. */
type Json = ColumnType<unknown, string, string>;

export interface ChatDB {
  rooms: { room_id: string; creator: string; created_stream_ordering: Int8 };
  events: {
    stream_ordering: Int8;
    instance_name: string;
    event_id: string;
    room_id: string;
    sender: string;
    type: string;
    state_key: string | null;
    membership: string | null;
    content: Json;
    origin_server_ts: Int8;
  };
  room_memberships: {
    event_id: string;
    room_id: string;
    user_id: string;
    membership: string;
    stream_ordering: Int8;
  };
  current_state_events: {
    room_id: string;
    type: string;
    state_key: string;
    event_id: string;
    membership: string | null;
    stream_ordering: Int8;
  };
  receipts: {
    stream_id: Int8;
    instance_name: string;
    room_id: string;
    receipt_type: string;
    user_id: string;
    event_id: string;
    receipt_ts: Int8;
  };
  account_data: {
    user_id: string;
    account_data_type: string;
    content: Json;
    stream_id: Int8;
    instance_name: string;
  };
  room_account_data: {
    user_id: string;
    room_id: string;
    account_data_type: string;
    content: Json;
    stream_id: Int8;
    instance_name: string;
  };
  room_tags: { user_id: string; room_id: string; tag: string; content: Json };
  room_tags_revisions: { user_id: string; room_id: string; stream_id: Int8; instance_name: string };
  push_rules: {
    user_id: string;
    rule_id: string;
    priority: number;
    pattern: string | null;
    actions: Json;
    enabled: boolean;
  };
  consumer_stream_positions: {
    consumer_name: string;
    stream_name: string;
    instance_name: string;
    stream_id: Int8;
    updated_ts: Int8;
  };
}

/** The chat schema folder, for `migrate`. */
export const CHAT_SCHEMA: MigrationSource = {
  source: 'chat',
  dir: fileURLToPath(new URL('../schema', import.meta.url)),
};

/** Opens `url` (PGlite in memory by default) and applies the runtime's and the chat's migrations. */
export async function openChatDatabase(
  options: { url?: string; schema?: string; poolSize?: number } = {},
): Promise<DatabaseHandle<ChatDB>> {
  const db = await createDatabase<ChatDB>({
    ...(options.url === undefined ? {} : { url: options.url }),
    ...(options.schema === undefined ? {} : { schema: options.schema }),
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
  });
  try {
    await migrate(db, [RUNTIME_SCHEMA, CHAT_SCHEMA]);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

/** An int8 value as a JS number. */
export function toInt(value: string | number | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

/** True for a `postgres://` URL (every role may then be its own process). */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}
