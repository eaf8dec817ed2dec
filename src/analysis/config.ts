// The shape of `store-lint.config.json` (or `.ts` / `.js`) after loading and
// validation: what the analyser and the rules read. Loading, discovery and
// validation live in src/lint/config-loader.ts.

export type Severity = 'off' | 'warn' | 'error';

export interface AppConfig {
  readonly role: 'writer' | 'worker';
  /** `path/to/file.ts#ClassName`, relative to the config's directory. */
  readonly store: string;
  /** Modules whose code runs in this app (followed through imports). */
  readonly entry: readonly string[];
  /** Tables a worker may write (e.g. its own stream position table). */
  readonly writes: readonly string[];
}

export interface StoreLintConfig {
  /** Absolute directory holding the config file; every path below is relative to it. */
  readonly root: string;
  /** Absolute path of the config file that was loaded. */
  readonly configPath: string;
  /** Globs of SQL schema files. */
  readonly schema: readonly string[];
  readonly apps: Readonly<Record<string, AppConfig>>;
  /** Globs of files whose classes are analysed as plain stores. */
  readonly stores: readonly string[];
  /** `camelCase` when the code uses Kysely's CamelCasePlugin. */
  readonly naming: 'snake_case' | 'camelCase';
  /** Per-rule severity overrides. */
  readonly rules: Readonly<Record<string, Severity>>;
  /** tsconfig path relative to root; default `tsconfig.json`. */
  readonly tsconfig: string;
}

/**
 * The file a path in the config names: itself, or for `x.js` (`.mjs`, `.cjs`)
 * the `x.ts` (`.mts`, `.cts`) source beside it, since ESM code names its own
 * modules by their emitted name. `exists` is the file-system check.
 */
export function configuredSource(path: string, exists: (p: string) => boolean): string {
  if (exists(path)) return path;
  const source = path.replace(/\.([mc]?)js$/, '.$1ts');
  return source !== path && exists(source) ? source : path;
}
