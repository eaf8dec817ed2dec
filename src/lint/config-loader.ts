// Finds, loads and validates `store-lint.config.json` (or `.ts` / `.js`):
// discovery walks up from the target directory, `-c` names the file instead.
// Validation is strict: a wrong type names the offending key
// (`apps.reader.role: expected "writer" or "worker"`), an unknown key is
// rejected with a suggestion, and missing optional keys get their defaults.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  configuredSource,
  type AppConfig,
  type Severity,
  type StoreLintConfig,
} from '../analysis/config.js';
import { StoreLintConfigError } from './errors.js';
import { systemReason } from '../analysis/errors.js';
import { ruleIds } from './rules/ids.js';
import { nearest } from './suggest.js';

export const CONFIG_FILE_NAMES = [
  'store-lint.config.json',
  'store-lint.config.ts',
  'store-lint.config.js',
] as const;

export const CONFIG_DEFAULTS = {
  tsconfig: 'tsconfig.json',
  naming: 'snake_case',
  stores: [] as string[],
  rules: {} as Record<string, Severity>,
} as const;

const TOP_KEYS = ['$schema', 'schema', 'apps', 'stores', 'naming', 'rules', 'tsconfig'];
const APP_KEYS = ['role', 'store', 'entry', 'writes'];
const SEVERITIES: Readonly<Record<string, Severity>> = {
  off: 'off',
  warn: 'warn',
  error: 'error',
  0: 'off',
  1: 'warn',
  2: 'error',
};

export interface LoadConfigOptions {
  /**
   * Where discovery starts (the `[dir]` argument); default the working
   * directory. With `configPath`, it must be that file's folder.
   */
  readonly dir?: string;
  /** `-c`: a config file to load instead of discovering one. */
  readonly configPath?: string;
  /** Base for relative `dir` / `configPath`; default `process.cwd()`. */
  readonly cwd?: string;
}

/** The config file for `dir`: the nearest one in it or a parent directory, or null. */
export function findConfigFile(dir: string): string | null {
  for (let current = resolve(dir); ;) {
    const found = CONFIG_FILE_NAMES.map((n) => join(current, n)).filter((p) => existsSync(p));
    if (found.length > 1) {
      throw new StoreLintConfigError(
        `${current} holds ${found.map((f) => f.slice(current.length + 1)).join(' and ')}; keep one`,
      );
    }
    if (found.length === 1) return found[0]!;
    const parent = dirname(current);
    if (parent === current) return null;
    current = parent;
  }
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<StoreLintConfig> {
  const cwd = options.cwd ?? process.cwd();
  const dir = resolve(cwd, options.dir ?? '.');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new StoreLintConfigError(`${dir} is not a directory`);
  }
  let configPath: string;
  if (options.configPath !== undefined) {
    configPath = resolve(cwd, options.configPath);
    if (!existsSync(configPath))
      throw new StoreLintConfigError(`config file ${configPath} does not exist`);
    // The project is the config's folder: a [dir] naming another one would be ignored unseen.
    if (options.dir !== undefined && realpathSync(dir) !== realpathSync(dirname(configPath))) {
      const shown = (path: string) => relative(cwd, path) || '.';
      throw new StoreLintConfigError(
        `[dir] ${shown(dir)} is not the folder of -c ${shown(configPath)}: ` +
          "with -c the project is the config file's folder; give one or the other",
      );
    }
  } else {
    const found = findConfigFile(dir);
    if (!found) {
      throw new StoreLintConfigError(
        `no ${CONFIG_FILE_NAMES.join(', ')} in ${dir} or any parent directory`,
      );
    }
    configPath = found;
  }
  // Discovery and `-c` only check that the name exists; a directory there
  // would fail on reading with a stack trace.
  if (statSync(configPath).isDirectory()) {
    throw new StoreLintConfigError('is a directory, not a config file', configPath);
  }
  const raw = await readConfigFile(configPath);
  const config = validateConfig(raw, configPath);
  checkFiles(config);
  return config;
}

async function readConfigFile(configPath: string): Promise<unknown> {
  if (configPath.endsWith('.json')) {
    let text: string;
    try {
      text = await readFile(configPath, 'utf8');
    } catch (error) {
      throw new StoreLintConfigError(`cannot read: ${(error as Error).message}`, configPath);
    }
    try {
      // Editors on Windows save JSON with a byte-order mark; tsc accepts one too.
      return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
    } catch (error) {
      throw new StoreLintConfigError(`not valid JSON: ${(error as Error).message}`, configPath);
    }
  }
  let module: { default?: unknown };
  try {
    module = configPath.endsWith('.ts')
      ? await importTypeScript(configPath)
      : ((await import(pathToFileURL(configPath).href)) as { default?: unknown });
  } catch (error) {
    if (error instanceof StoreLintConfigError) throw error;
    const first = ((error as Error).message ?? String(error)).split('\n')[0];
    throw new StoreLintConfigError(`cannot load: ${first}`, configPath);
  }
  if (module.default === undefined) {
    throw new StoreLintConfigError(
      'expected a default export holding the config object',
      configPath,
    );
  }
  // A config module may export a promise of its config.
  return await Promise.resolve(module.default);
}

/**
 * A `.ts` config: Node (before type stripping) cannot import one, so it is
 * transpiled to an ES module beside it (so its relative imports of `.js`
 * modules and packages resolve as written), imported, and removed.
 */
async function importTypeScript(configPath: string): Promise<{ default?: unknown }> {
  const { ts } = await import('../analysis/typescript.cjs');
  const source = await readFile(configPath, 'utf8');
  const { outputText, diagnostics = [] } = ts.transpileModule(source, {
    fileName: configPath,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  // transpileModule emits something even for broken syntax (a missing `}` is
  // supplied), so a typo would otherwise load as a different config.
  const [first] = diagnostics;
  if (first) {
    const at =
      first.file && first.start !== undefined
        ? first.file.getLineAndCharacterOfPosition(first.start)
        : null;
    throw new StoreLintConfigError(
      ts.flattenDiagnosticMessageText(first.messageText, ' '),
      configPath,
      null,
      at ? { line: at.line + 1, column: at.character + 1 } : null,
    );
  }
  const temp = join(dirname(configPath), `.store-lint.config.${process.pid}.${Date.now()}.mjs`);
  await writeFile(temp, outputText);
  try {
    return (await import(pathToFileURL(temp).href)) as { default?: unknown };
  } finally {
    await rm(temp, { force: true });
  }
}

/** Validates a parsed config and fills in defaults; `configPath` is absolute. */
export function validateConfig(raw: unknown, configPath: string): StoreLintConfig {
  const fail = (key: string, what: string): never => {
    throw new StoreLintConfigError(`${key}: ${what}`, configPath, key);
  };
  const rejectUnknown = (
    obj: Record<string, unknown>,
    allowed: readonly string[],
    prefix: string,
  ) => {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      const close = nearest(key, allowed);
      fail(`${prefix}${key}`, `unknown key${close ? ` (did you mean "${close}"?)` : ''}`);
    }
  };
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const strings = (v: unknown, key: string, nonEmpty = false): string[] => {
    if (!Array.isArray(v)) return fail(key, 'expected an array of strings');
    v.forEach((item, i) => {
      if (typeof item !== 'string' || item === '')
        fail(`${key}[${i}]`, 'expected a non-empty string');
    });
    if (nonEmpty && v.length === 0) fail(key, 'expected at least one entry');
    return v as string[];
  };

  if (!isObject(raw)) return fail('(root)', 'expected an object');
  rejectUnknown(raw, TOP_KEYS, '');

  if (raw.schema === undefined)
    fail('schema', 'required (globs of the SQL schema files, e.g. ["schema/**/*.sql"])');
  const schema = strings(raw.schema, 'schema', true);

  if (raw.apps === undefined)
    fail('apps', 'required (the writer and worker apps and their compositions)');
  if (!isObject(raw.apps)) return fail('apps', 'expected an object of apps by name');
  const apps: Record<string, AppConfig> = {};
  for (const [name, value] of Object.entries(raw.apps)) {
    const prefix = `apps.${name}`;
    if (!isObject(value))
      return fail(prefix, 'expected an object { role, store, entry?, writes? }');
    rejectUnknown(value, APP_KEYS, `${prefix}.`);
    if (value.role !== 'writer' && value.role !== 'worker')
      fail(`${prefix}.role`, 'expected "writer" or "worker"');
    const role = value.role as 'writer' | 'worker';
    if (typeof value.store !== 'string' || !/^[^#]+#[A-Za-z_$][\w$]*$/.test(value.store)) {
      fail(`${prefix}.store`, 'expected "path/to/file.ts#ClassName"');
    }
    const entry = value.entry === undefined ? [] : strings(value.entry, `${prefix}.entry`);
    const writes = value.writes === undefined ? [] : strings(value.writes, `${prefix}.writes`);
    if (role === 'writer' && writes.length) {
      fail(
        `${prefix}.writes`,
        'only a worker app lists the tables it may write (the writer writes any)',
      );
    }
    apps[name] = { role, store: value.store as string, entry, writes };
  }
  if (Object.keys(apps).length === 0) fail('apps', 'expected at least one app');

  const stores =
    raw.stores === undefined ? [...CONFIG_DEFAULTS.stores] : strings(raw.stores, 'stores');

  if (raw.naming !== undefined && raw.naming !== 'snake_case' && raw.naming !== 'camelCase') {
    fail('naming', 'expected "snake_case" or "camelCase"');
  }
  const naming = (raw.naming as 'snake_case' | 'camelCase' | undefined) ?? CONFIG_DEFAULTS.naming;

  if (raw.tsconfig !== undefined && (typeof raw.tsconfig !== 'string' || raw.tsconfig === '')) {
    fail('tsconfig', 'expected a path to a tsconfig file');
  }
  const tsconfig = (raw.tsconfig as string | undefined) ?? CONFIG_DEFAULTS.tsconfig;

  const rules: Record<string, Severity> = {};
  if (raw.rules !== undefined) {
    if (!isObject(raw.rules)) return fail('rules', 'expected an object of severities by rule id');
    for (const [id, value] of Object.entries(raw.rules)) {
      if (!ruleIds.includes(id)) {
        const close = nearest(id, ruleIds);
        fail(`rules.${id}`, `unknown rule${close ? ` (did you mean "${close}"?)` : ''}`);
      }
      const severity =
        (typeof value === 'string' || typeof value === 'number') && Object.hasOwn(SEVERITIES, value)
          ? SEVERITIES[value]
          : undefined;
      if (!severity) fail(`rules.${id}`, 'expected "off", "warn" or "error"');
      rules[id] = severity!;
    }
  }

  const root = dirname(configPath);
  return Object.freeze({
    root,
    configPath,
    schema: Object.freeze(schema),
    apps: Object.freeze(apps),
    stores: Object.freeze(stores),
    naming,
    rules: Object.freeze(rules),
    tsconfig,
  });
}

/** The files the config names must exist: a typo here otherwise surfaces as a confusing analysis error. */
function checkFiles(config: StoreLintConfig): void {
  const check = (key: string, file: string) => {
    const exists = (f: string): boolean => {
      try {
        statSync(resolve(config.root, f));
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return false;
        // A folder on the way that cannot be searched: the file may well be there.
        throw new StoreLintConfigError(
          `${key}: cannot read ${f}: ${systemReason(error as Error)}`,
          config.configPath,
          key,
        );
      }
    };
    if (!exists(configuredSource(file, exists))) {
      throw new StoreLintConfigError(`${key}: ${file} does not exist`, config.configPath, key);
    }
  };
  check('tsconfig', config.tsconfig);
  for (const [name, app] of Object.entries(config.apps)) {
    check(`apps.${name}.store`, app.store.slice(0, app.store.lastIndexOf('#')));
    app.entry.forEach((entry, i) => check(`apps.${name}.entry[${i}]`, entry));
  }
}
