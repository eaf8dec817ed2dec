// Triggers in the schema files: the SQL statements inside a PL/pgSQL body,
// what each trigger's function writes (through the functions it calls), how
// CREATE / ALTER / DROP in later files change the triggers, and what a write
// fires.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plpgsqlStatements } from '../../src/analysis/plpgsql.js';
import { readSchema, writesThrough, type Schema } from '../../src/analysis/schema.js';
import { configFor } from './fixture-config.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'store-lint-triggers-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let projects = 0;
async function schemaOf(...files: string[]): Promise<Schema> {
  const root = path.join(scratch, `p${projects++}`);
  mkdirSync(path.join(root, 'schema'), { recursive: true });
  files.forEach((text, i) => writeFileSync(path.join(root, 'schema', `${i}.sql`), text));
  return readSchema(configFor(root, { schema: ['schema/*.sql'] }));
}

/** Each trigger as `table.name → function: writes | gaps` (`-`: none). */
function triggersOf(schema: Schema): string[] {
  return [...schema.triggers.values()].flat().map((t) => {
    const gaps = t.gaps.length ? ` | ${t.gaps.join(' / ')}` : '';
    return `${t.table}.${t.name} → ${t.function}: ${t.writes.join(',') || '-'}${gaps}`;
  });
}

const TABLES = 'CREATE TABLE a (id int); CREATE TABLE b (id int); CREATE TABLE c (id int);\n';
const plpgsql = (name: string, body: string): string =>
  `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ ${body} $$;\n`;

describe('PL/pgSQL bodies', () => {
  it('finds the SQL statements inside blocks, conditions, loops and handlers', () => {
    const body = plpgsqlStatements(`
      <<main>>
      DECLARE
        total int := helper(1);
        c CURSOR FOR SELECT * FROM cursor_source;
      BEGIN
        FOR r IN SELECT * FROM loop_source LOOP
          UPDATE counts SET n = n + 1 WHERE id = r.id;
        END LOOP main;
        FOR i IN REVERSE 10..1 BY 2 LOOP NULL; END LOOP;
        WHILE total > 0 LOOP total := total - 1; END LOOP;
        IF TG_OP = 'DELETE' THEN
          DELETE FROM mirror WHERE id = OLD.id;
        ELSIF CASE WHEN NEW.a THEN true ELSE false END THEN
          SELECT count(*) INTO STRICT total FROM other;
        ELSE
          INSERT INTO mirror (id) VALUES (NEW.id) RETURNING id INTO total;
        END IF;
        CASE NEW.kind
          WHEN 'a' THEN MERGE INTO m USING src ON true WHEN MATCHED THEN DELETE;
          ELSE PERFORM log_it(NEW.id);
        END CASE;
        NEW.updated_at := now();
        RAISE NOTICE 'total %', describe(total);
        BEGIN
          WITH d AS (DELETE FROM queue RETURNING *) INSERT INTO done SELECT * FROM d;
        EXCEPTION WHEN unique_violation THEN
          TRUNCATE scratch;
        END;
        RETURN QUERY SELECT * FROM returned;
        RETURN NEW;
      END`);
    expect(body.problems).toEqual([]);
    expect(body.statements.map((s) => s.replace(/\s+/g, ' '))).toEqual([
      'SELECT * FROM cursor_source',
      'SELECT * FROM loop_source',
      'UPDATE counts SET n = n + 1 WHERE id = r.id',
      'DELETE FROM mirror WHERE id = OLD.id',
      // PL/pgSQL's INTO names variables: it is not SELECT INTO a table.
      'SELECT count(*) FROM other',
      'INSERT INTO mirror (id) VALUES (NEW.id) RETURNING id ',
      'MERGE INTO m USING src ON true WHEN MATCHED THEN DELETE',
      'SELECT log_it(NEW.id)',
      'WITH d AS (DELETE FROM queue RETURNING *) INSERT INTO done SELECT * FROM d',
      'TRUNCATE scratch',
      'SELECT * FROM returned',
    ]);
    // Functions named outside those statements: the caller follows the schema's own.
    expect(body.calls).toEqual(['describe', 'helper', 'now']);
  });

  it('says what it cannot follow instead of skipping it', () => {
    const problems = (text: string) => plpgsqlStatements(text).problems;
    expect(problems("BEGIN EXECUTE format('INSERT INTO %I VALUES (1)', TG_ARGV[0]); END")).toEqual([
      'runs dynamic SQL (`EXECUTE`)',
    ]);
    expect(problems("BEGIN FOR r IN EXECUTE 'SELECT 1' LOOP END LOOP; END")).toEqual([
      'runs dynamic SQL (`FOR … IN EXECUTE`)',
    ]);
    expect(problems("BEGIN RETURN QUERY EXECUTE 'SELECT 1'; END")).toEqual([
      'runs dynamic SQL (`EXECUTE`)',
    ]);
    expect(problems("BEGIN OPEN c FOR EXECUTE 'SELECT 1'; END")).toEqual([
      'runs dynamic SQL (`EXECUTE`)',
    ]);
    expect(problems("BEGIN INSERT INTO x VALUES ('open); END")).toEqual([
      'has a string that is not closed',
    ]);
    expect(problems('BEGIN INSERT INTO x VALUES ((1); END')).toEqual([
      'has parentheses that do not match',
    ]);
    // A write keyword where no statement was recognised.
    expect(problems('BEGIN IF EXISTS (SELECT 1 FROM t FOR UPDATE) THEN NULL; END IF; END')).toEqual(
      ['has `UPDATE` outside any statement store-lint recognises'],
    );
  });
});

describe('triggers in the schema', () => {
  it('follows a trigger function into the statements it runs and the functions it calls', async () => {
    const schema = await schemaOf(
      TABLES,
      [
        plpgsql('to_b', 'BEGIN INSERT INTO b VALUES (NEW.id); PERFORM also_c(); RETURN NEW; END'),
        'CREATE FUNCTION also_c() RETURNS void LANGUAGE sql AS $$ DELETE FROM c $$;',
        'CREATE TRIGGER a_to_b AFTER INSERT ON public.a FOR EACH ROW EXECUTE PROCEDURE public.to_b();',
        plpgsql('dynamic', "BEGIN EXECUTE 'DELETE FROM ' || TG_ARGV[0]; RETURN NULL; END"),
        'CREATE TRIGGER b_dynamic AFTER TRUNCATE ON b FOR EACH STATEMENT EXECUTE FUNCTION dynamic();',
        "CREATE FUNCTION c_fn() RETURNS trigger LANGUAGE plpython3u AS $$ plpy.execute('x') $$;",
        'CREATE TRIGGER c_python BEFORE UPDATE ON c FOR EACH ROW EXECUTE FUNCTION c_fn();',
        'CREATE TRIGGER c_missing AFTER DELETE ON c FOR EACH ROW EXECUTE FUNCTION nowhere();',
        plpgsql('nested', 'BEGIN PERFORM outer_fn(); RETURN NULL; END'),
        'CREATE FUNCTION outer_fn() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CALL purge(); PERFORM inner_fn(); END $$;',
        'CREATE FUNCTION inner_fn() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE $q$ SELECT 1 $q$; END $$;',
        'CREATE TRIGGER c_nested AFTER INSERT ON c FOR EACH ROW EXECUTE FUNCTION nested();',
        '',
      ].join('\n'),
    );
    expect(triggersOf(schema)).toEqual([
      'a.a_to_b → to_b: b,c',
      'b.b_dynamic → dynamic: - | runs dynamic SQL (`EXECUTE`)',
      'c.c_missing → nowhere: - | is not defined in the schema files',
      'c.c_nested → nested: - | calls `outer_fn`, which calls procedure `purge`, which the schema files do not define / calls `outer_fn`, which calls `inner_fn`, which runs dynamic SQL (`EXECUTE`)',
      'c.c_python → c_fn: - | is written in LANGUAGE plpython3u, whose tables store-lint does not see',
    ]);
    const location = schema.triggers.get('a')![0]!.location;
    expect(location).toEqual({
      file: 'schema/1.sql',
      line: 4,
      column: 1,
      endLine: 4,
      endColumn: 92,
    });
  });

  it('applies later files: CREATE OR REPLACE, renames, and drops of triggers, tables and functions', async () => {
    const schema = await schemaOf(
      TABLES + plpgsql('to_b', 'BEGIN INSERT INTO b VALUES (1); RETURN NULL; END'),
      [
        'CREATE TRIGGER t1 AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION to_b();',
        'CREATE TRIGGER t2 AFTER INSERT ON c FOR EACH ROW EXECUTE FUNCTION to_b();',
        'CREATE TRIGGER gone AFTER INSERT ON b FOR EACH ROW EXECUTE FUNCTION to_b();',
        '',
      ].join('\n'),
      [
        plpgsql('to_c', 'BEGIN INSERT INTO c VALUES (1); RETURN NULL; END'),
        'CREATE OR REPLACE TRIGGER t1 AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION to_c();',
        'ALTER TRIGGER t2 ON c RENAME TO t3;',
        'ALTER TABLE c RENAME TO d;',
        'DROP TRIGGER gone ON b;',
        // The body changes under the trigger that names the function.
        'CREATE OR REPLACE FUNCTION to_b() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM a; RETURN NULL; END $$;',
        '',
      ].join('\n'),
    );
    expect(triggersOf(schema)).toEqual(['a.t1 → to_c: c', 'd.t3 → to_b: a']);

    const dropped = await schemaOf(
      TABLES + plpgsql('to_b', 'BEGIN INSERT INTO b VALUES (1); RETURN NULL; END'),
      [
        'CREATE TRIGGER t1 AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION to_b();',
        'CREATE TRIGGER t2 AFTER INSERT ON c FOR EACH ROW EXECUTE FUNCTION to_b();',
        'DROP TABLE c;',
        'ALTER FUNCTION to_b() RENAME TO into_b;',
        '',
      ].join('\n'),
    );
    expect(triggersOf(dropped)).toEqual(['a.t1 → into_b: b']);

    const cascaded = await schemaOf(
      TABLES + plpgsql('to_b', 'BEGIN INSERT INTO b VALUES (1); RETURN NULL; END'),
      'CREATE TRIGGER t1 AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION to_b();\nDROP FUNCTION to_b() CASCADE;\n',
    );
    expect(triggersOf(cascaded)).toEqual([]);
  });

  it('writes through views and triggers, transitively, and says which write fires each trigger', async () => {
    const schema = await schemaOf(
      TABLES,
      [
        'CREATE VIEW v AS SELECT id FROM a;',
        plpgsql('to_b', 'BEGIN INSERT INTO b VALUES (NEW.id); RETURN NEW; END'),
        plpgsql('to_c', "BEGIN INSERT INTO c VALUES (NEW.id); EXECUTE 'x'; RETURN NEW; END"),
        'CREATE TRIGGER a_to_b AFTER INSERT ON a FOR EACH ROW EXECUTE FUNCTION to_b();',
        'CREATE TRIGGER b_to_c AFTER INSERT ON b FOR EACH ROW EXECUTE FUNCTION to_c();',
        // A trigger on c that writes c fires itself: the closure stops.
        plpgsql('c_again', 'BEGIN UPDATE c SET id = id; RETURN NULL; END'),
        'CREATE TRIGGER c_again AFTER UPDATE ON c FOR EACH STATEMENT EXECUTE FUNCTION c_again();',
        '',
      ].join('\n'),
    );
    const { tables, fired, byDatabase } = writesThrough(['v'], schema);
    expect([...tables].sort()).toEqual(['a', 'b', 'c', 'v']);
    // What writes each table the code did not name: the first thing found.
    expect(byDatabase.map((w) => `${w.table} by ${w.by} ${w.name} after ${w.after}`)).toEqual([
      'a by view v after v',
      'b by trigger a_to_b after a',
      'c by trigger b_to_c after b',
    ]);
    expect(fired.map((f) => `${f.from}: ${f.trigger.name}`)).toEqual([
      'v: a_to_b',
      'v: b_to_c',
      'v: c_again',
    ]);
    expect(writesThrough(['a'], { viewReads: schema.viewReads, triggers: new Map() })).toEqual({
      tables: new Set(['a']),
      fired: [],
      cascaded: [],
      byDatabase: [],
    });
  });
});
