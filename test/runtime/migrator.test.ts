import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrate, MigrationError, RUNTIME_SCHEMA } from '../../src/runtime/migrator.js';
import { describeEachDatabase } from '../support/databases.js';

async function appSchema(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'storesplit-schema-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describeEachDatabase('migrate', (backend) => {
  it('applies an application folder in order, once, alongside the runtime schema', async () => {
    const db = await backend.open();
    const dir = await appSchema({
      '002_more.sql':
        'ALTER TABLE rooms ADD COLUMN name text; CREATE INDEX rooms_name ON rooms (name);',
      '001_rooms.sql': 'CREATE TABLE rooms (room_id text PRIMARY KEY);',
    });
    const app = { source: 'app', dir };
    const first = await migrate(db, [RUNTIME_SCHEMA, app]);
    expect(first.applied).toEqual(['app/001_rooms.sql', 'app/002_more.sql']);
    expect(first.alreadyApplied).toContain('storesplit/001_stream_positions.sql');
    await sql`INSERT INTO rooms (room_id, name) VALUES ('!a', 'A')`.execute(db);
    const second = await migrate(db, [RUNTIME_SCHEMA, app]);
    expect(second.applied).toEqual([]);
  });

  it('refuses an applied file whose text changed', async () => {
    const db = await backend.open();
    const dir = await appSchema({
      '001_rooms.sql': 'CREATE TABLE rooms (room_id text PRIMARY KEY);',
    });
    await migrate(db, [{ source: 'app', dir }]);
    await writeFile(
      join(dir, '001_rooms.sql'),
      'CREATE TABLE rooms (room_id text PRIMARY KEY, x int);',
    );
    await expect(migrate(db, [{ source: 'app', dir }])).rejects.toThrow(
      new MigrationError(
        'app/001_rooms.sql was changed after it was applied; add a new migration instead of editing it',
      ),
    );
  });

  it('rolls back a failing file and records nothing for it', async () => {
    const db = await backend.open();
    const dir = await appSchema({
      '001_bad.sql': 'CREATE TABLE ok_table (a int); SELECT * FROM missing_table;',
    });
    await expect(migrate(db, [{ source: 'app', dir }])).rejects.toThrow(
      /app\/001_bad\.sql failed: .*missing_table/,
    );
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM storesplit_migrations WHERE source = 'app'`.execute(db);
    expect(rows[0]!.n).toBe(0);
    const { rows: tables } =
      await sql`SELECT 1 FROM information_schema.tables WHERE table_name = 'ok_table' AND table_schema = current_schema()`.execute(
        db,
      );
    expect(tables).toEqual([]);
  });

  it('rejects badly named files', async () => {
    const db = await backend.open();
    const dir = await appSchema({ 'rooms.sql': 'SELECT 1;' });
    await expect(migrate(db, [{ source: 'app', dir }])).rejects.toThrow(
      /name must be NNN_description\.sql/,
    );
  });
});
