// With `--cache`, TypeScript is compiled from V8's code cache, kept beside the
// cache file. Every run that analyses first loads TypeScript: 9 MB of
// JavaScript that V8 compiles before any file is parsed. The code cache skips
// that compile, so a run that must analyse again after a change pays only for
// the analysis. V8 checks the cached code against the source, its own version
// and its flags; on a mismatch (TypeScript or Node upgraded) it compiles
// afresh and the file is rewritten. A code cache that cannot be read or
// written costs only the time it would have saved.
import { existsSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** The file beside the cache file `location`, named after it as the model file is. */
export function codeCacheBeside(location: string): string {
  return `${location.replace(/\.json$/, '')}.typescript.v8-code-cache`;
}

export interface TypeScriptCodeCache {
  /** Loads TypeScript into the module cache, from the code cache where it holds it. Idempotent. */
  preload(): void;
  /** Whether the last `preload` compiled TypeScript from the code cache. */
  readonly usedCodeCache: boolean;
  /**
   * Writes the code cache when it was missing or rejected. Called once the
   * analysis ran, so that the functions it compiled lazily (the parser's)
   * are in it too.
   */
  save(): Promise<void>;
}

/** Module internals Node uses to resolve a CommonJS module's own `require`s. */
interface ModuleInternals {
  _nodeModulePaths(from: string): string[];
}

/** The TypeScript that ts-morph loads: its `@ts-morph/common`'s bundled copy. */
function typeScriptPath(): string {
  const require = createRequire(import.meta.url);
  const common = require.resolve('@ts-morph/common', { paths: [require.resolve('ts-morph')] });
  return join(dirname(common), 'typescript.js');
}

export function typeScriptCodeCache(path: string): TypeScriptCodeCache {
  let script: Script | null = null;
  let stale = false;
  return {
    get usedCodeCache() {
      return script !== null && !stale;
    },
    preload() {
      if (script) return;
      let file: string;
      try {
        file = typeScriptPath();
      } catch {
        return; // ts-morph loads TypeScript as it would, and reports what is missing
      }
      const require = createRequire(file);
      if (require.cache[file]) return;
      let cached: Buffer | undefined;
      try {
        cached = existsSync(path) ? readFileSync(path) : undefined;
      } catch {
        cached = undefined;
      }
      const compiled = new Script(Module.wrap(readFileSync(file, 'utf8')), {
        filename: file,
        cachedData: cached,
      });
      const module = new Module(file);
      module.filename = file;
      module.paths = (Module as unknown as ModuleInternals)._nodeModulePaths(dirname(file));
      const run = compiled.runInThisContext() as (
        exports: unknown,
        require: NodeJS.Require,
        module: Module,
        filename: string,
        dirname: string,
      ) => void;
      run.call(module.exports, module.exports, require, module, file, dirname(file));
      module.loaded = true;
      require.cache[file] = module;
      script = compiled;
      stale = cached === undefined || compiled.cachedDataRejected === true;
    },
    async save() {
      if (!script || !stale) return;
      const temp = `${path}.${process.pid}.tmp`;
      try {
        await writeFile(temp, script.createCachedData());
        await rename(temp, path);
        stale = false;
      } catch {
        await rm(temp, { force: true }).catch(() => undefined);
      }
    },
  };
}
