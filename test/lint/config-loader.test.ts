import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findConfigFile, loadConfig, validateConfig } from '../../src/lint/config-loader.js';
import { StoreLintConfigError } from '../../src/lint/errors.js';

const minimal = {
  schema: ['schema/*.sql'],
  apps: { main: { role: 'writer', store: 'src/main.ts#Main' } },
};

function errorOf(fn: () => unknown): StoreLintConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StoreLintConfigError) return error;
    throw error;
  }
  throw new Error('expected a StoreLintConfigError');
}

describe('validateConfig', () => {
  it('fills in the defaults', () => {
    const config = validateConfig(minimal, '/p/store-lint.config.json');
    expect(config).toEqual({
      root: '/p',
      configPath: '/p/store-lint.config.json',
      schema: ['schema/*.sql'],
      apps: { main: { role: 'writer', store: 'src/main.ts#Main', entry: [], writes: [] } },
      stores: [],
      naming: 'snake_case',
      rules: {},
      tsconfig: 'tsconfig.json',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names the offending key', () => {
    const bad = { ...minimal, apps: { reader: { role: 'reader', store: 'src/r.ts#R' } } };
    const e = errorOf(() => validateConfig(bad, '/p/store-lint.config.json'));
    expect(e.message).toBe('apps.reader.role: expected "writer" or "worker"');
    expect(e.key).toBe('apps.reader.role');
    expect(e.configPath).toBe('/p/store-lint.config.json');
  });

  it.each([
    [
      { apps: minimal.apps },
      'schema: required (globs of the SQL schema files, e.g. ["schema/**/*.sql"])',
    ],
    [{ ...minimal, schema: 'schema/*.sql' }, 'schema: expected an array of strings'],
    [{ ...minimal, schema: [''] }, 'schema[0]: expected a non-empty string'],
    [
      { schema: minimal.schema },
      'apps: required (the writer and worker apps and their compositions)',
    ],
    [{ ...minimal, apps: {} }, 'apps: expected at least one app'],
    [
      { ...minimal, apps: { main: { role: 'writer', store: 'src/main.ts' } } },
      'apps.main.store: expected "path/to/file.ts#ClassName"',
    ],
    [
      { ...minimal, apps: { main: { role: 'writer', store: 'a.ts#M', writes: ['t'] } } },
      'apps.main.writes: only a worker app lists the tables it may write (the writer writes any)',
    ],
    [
      { ...minimal, apps: { r: { role: 'worker', store: 'a.ts#R', entry: 'src/r.ts' } } },
      'apps.r.entry: expected an array of strings',
    ],
    [{ ...minimal, naming: 'kebab' }, 'naming: expected "snake_case" or "camelCase"'],
    [
      { ...minimal, rules: { 'worker-writes': 'fatal' } },
      'rules.worker-writes: expected "off", "warn" or "error"',
    ],
    [{ ...minimal, tsconfig: 3 }, 'tsconfig: expected a path to a tsconfig file'],
    [[], '(root): expected an object'],
  ])('rejects %j', (raw, message) => {
    expect(errorOf(() => validateConfig(raw, '/p/c.json')).message).toBe(message);
  });

  it('rejects unknown keys and rule ids with a suggestion', () => {
    expect(errorOf(() => validateConfig({ ...minimal, schemas: [] }, '/p/c.json')).message).toBe(
      'schemas: unknown key (did you mean "schema"?)',
    );
    const app = { main: { role: 'worker', store: 'a.ts#M', entries: [] } };
    expect(errorOf(() => validateConfig({ ...minimal, apps: app }, '/p/c.json')).message).toBe(
      'apps.main.entries: unknown key (did you mean "entry"?)',
    );
    expect(
      errorOf(() => validateConfig({ ...minimal, rules: { 'worker-write': 'off' } }, '/p/c.json'))
        .message,
    ).toBe('rules.worker-write: unknown rule (did you mean "worker-writes"?)');
    expect(errorOf(() => validateConfig({ ...minimal, frobnicate: 1 }, '/p/c.json')).message).toBe(
      'frobnicate: unknown key',
    );
  });

  it('accepts numeric severities and the $schema key', () => {
    const config = validateConfig(
      {
        ...minimal,
        $schema: './x.json',
        rules: { 'worker-writes': 0, 'unknown-table': 1, 'store-constructor': 2 },
      },
      '/p/c.json',
    );
    expect(config.rules).toEqual({
      'worker-writes': 'off',
      'unknown-table': 'warn',
      'store-constructor': 'error',
    });
  });

  it.each(['toString', 'constructor', '__proto__', 3])('rejects the severity %s', (value) => {
    const e = errorOf(() =>
      validateConfig({ ...minimal, rules: { 'worker-writes': value } }, '/p/c.json'),
    );
    expect(e.message).toBe('rules.worker-writes: expected "off", "warn" or "error"');
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-lint-config-'));
    await mkdir(join(dir, 'src', 'deep', 'er'), { recursive: true });
    await writeFile(join(dir, 'tsconfig.json'), '{}');
    await writeFile(join(dir, 'src', 'main.ts'), 'export class Main {}\n');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('walks up from the target directory to the nearest config', async () => {
    await writeFile(join(dir, 'store-lint.config.json'), JSON.stringify(minimal));
    const config = await loadConfig({ cwd: dir, dir: 'src/deep/er' });
    expect(config.root).toBe(dir);
    expect(findConfigFile(join(dir, 'src', 'deep'))).toBe(join(dir, 'store-lint.config.json'));
  });

  it('loads .js and .ts configs (default export)', async () => {
    await writeFile(
      join(dir, 'store-lint.config.js'),
      `export default ${JSON.stringify(minimal)};\n`,
    );
    expect((await loadConfig({ cwd: dir })).configPath).toBe(join(dir, 'store-lint.config.js'));
    await rm(join(dir, 'store-lint.config.js'));
    await writeFile(
      join(dir, 'store-lint.config.ts'),
      `const naming: 'camelCase' = 'camelCase';\nexport default { ...${JSON.stringify(minimal)}, naming };\n`,
    );
    expect((await loadConfig({ cwd: dir })).naming).toBe('camelCase');
  });

  it('refuses a .ts config that does not parse, saying where', async () => {
    // Transpiling alone would supply the missing comma and load something else.
    await writeFile(
      join(dir, 'store-lint.config.ts'),
      [
        'export default {',
        "  schema: ['schema/*.sql'],",
        "  apps: { main: { role: 'writer', store: 'src/main.ts#Main' } }",
        "  rules: { 'worker-writes': 'off' },",
        '};',
        '',
      ].join('\n'),
    );
    const error = await loadConfig({ cwd: dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreLintConfigError);
    expect(error).toMatchObject({
      message: "',' expected.",
      configPath: join(dir, 'store-lint.config.ts'),
      position: { line: 4, column: 3 },
    });
  });

  it('refuses two configs in one directory', async () => {
    await writeFile(join(dir, 'store-lint.config.json'), JSON.stringify(minimal));
    await writeFile(join(dir, 'store-lint.config.js'), 'export default {};\n');
    await expect(loadConfig({ cwd: dir })).rejects.toThrow(
      /holds store-lint.config.json and store-lint.config.js; keep one/,
    );
  });

  it('uses -c instead of discovery', async () => {
    await mkdir(join(dir, 'conf'));
    await writeFile(
      join(dir, 'conf', 'lint.json'),
      JSON.stringify({
        ...minimal,
        tsconfig: '../tsconfig.json',
        apps: { main: { role: 'writer', store: '../src/main.ts#Main' } },
      }),
    );
    const config = await loadConfig({ cwd: dir, configPath: 'conf/lint.json' });
    expect(config.root).toBe(join(dir, 'conf'));
    await expect(loadConfig({ cwd: dir, configPath: 'nope.json' })).rejects.toThrow(
      /config file .*nope.json does not exist/,
    );
  });

  it('refuses a [dir] beside -c unless it is the config file’s folder', async () => {
    await mkdir(join(dir, 'conf'));
    await writeFile(
      join(dir, 'conf', 'lint.json'),
      JSON.stringify({
        ...minimal,
        tsconfig: '../tsconfig.json',
        apps: { main: { role: 'writer', store: '../src/main.ts#Main' } },
      }),
    );
    const configPath = 'conf/lint.json';
    await expect(loadConfig({ cwd: dir, dir: 'src', configPath })).rejects.toThrow(
      "[dir] src is not the folder of -c conf/lint.json: with -c the project is the config file's folder; give one or the other",
    );
    await expect(loadConfig({ cwd: dir, dir: 'nope', configPath })).rejects.toThrow(
      `${join(dir, 'nope')} is not a directory`,
    );
    expect((await loadConfig({ cwd: dir, dir: 'conf/', configPath })).root).toBe(join(dir, 'conf'));
    expect(
      (await loadConfig({ cwd: join(dir, 'conf'), dir: '.', configPath: 'lint.json' })).root,
    ).toBe(join(dir, 'conf'));
  });

  it('says when there is no config, and when the JSON is broken', async () => {
    const isolated = await mkdtemp(join(tmpdir(), 'store-lint-none-'));
    try {
      await expect(loadConfig({ cwd: isolated })).rejects.toThrow(
        /^no store-lint.config.json, store-lint.config.ts, store-lint.config.js in /,
      );
    } finally {
      await rm(isolated, { recursive: true, force: true });
    }
    await writeFile(join(dir, 'store-lint.config.json'), '{ "schema": [,] }');
    await expect(loadConfig({ cwd: dir })).rejects.toThrow(/^not valid JSON/);
  });

  it('reads a JSON config saved with a byte-order mark', async () => {
    await writeFile(join(dir, 'store-lint.config.json'), `\uFEFF${JSON.stringify(minimal)}`);
    expect((await loadConfig({ cwd: dir })).schema).toEqual(minimal.schema);
  });

  it('checks that the files the config names exist', async () => {
    await writeFile(
      join(dir, 'store-lint.config.json'),
      JSON.stringify({ ...minimal, tsconfig: 'tsconfig.app.json' }),
    );
    await expect(loadConfig({ cwd: dir })).rejects.toThrow(
      'tsconfig: tsconfig.app.json does not exist',
    );
    await writeFile(
      join(dir, 'store-lint.config.json'),
      JSON.stringify({
        ...minimal,
        apps: { r: { role: 'worker', store: 'src/main.js#Main', entry: ['src/r.ts'] } },
      }),
    );
    await expect(loadConfig({ cwd: dir })).rejects.toThrow(
      'apps.r.entry[0]: src/r.ts does not exist',
    );
    // An entry named as ESM code names it (`.js`) is its `.ts` source.
    await writeFile(
      join(dir, 'store-lint.config.json'),
      JSON.stringify({
        ...minimal,
        apps: { r: { role: 'worker', store: 'src/main.js#Main', entry: ['src/main.js'] } },
      }),
    );
    expect((await loadConfig({ cwd: dir })).apps.r!.entry).toEqual(['src/main.js']);
  });
});
