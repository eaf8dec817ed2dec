// The seam between the CLI and the analyser (`src/analysis/analyze.ts`):
// `analyzeProject(config, { onProgress })` builds the model, `printModel`
// renders it for `--print-model`. Loaded on demand so that `--help` and the
// config checks do not pay for ts-morph.
import type { StoreLintConfig } from '../analysis/config.js';
import type { StoreModel } from '../analysis/model.js';
import { StoreLintUserError } from './errors.js';

export interface AnalyzeOptions {
  onProgress?(done: number, total: number, file: string): void;
}

export interface Analyzer {
  analyzeProject(config: StoreLintConfig, options?: AnalyzeOptions): Promise<StoreModel>;
  printModel(model: StoreModel): string;
}

/** The analyser's folder, whose sources the cache fingerprints as part of the tool version. */
export const ANALYZER_DIR = new URL('../analysis/', import.meta.url);

// A variable specifier keeps the type checker from requiring the module
// while the analyser and the CLI are built side by side.
const ANALYZE_MODULE: string = '../analysis/analyze.js';

export class AnalyzerUnavailableError extends StoreLintUserError {
  override name = 'AnalyzerUnavailableError';
}

export async function loadAnalyzer(): Promise<Analyzer> {
  let loaded: Partial<Analyzer>;
  try {
    loaded = (await import(ANALYZE_MODULE)) as Partial<Analyzer>;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && /analysis[\\/]analyze/.test(e.message)) {
      throw new AnalyzerUnavailableError(
        'the analyser (src/analysis/analyze.ts) is not part of this build',
      );
    }
    throw error;
  }
  if (typeof loaded.analyzeProject !== 'function' || typeof loaded.printModel !== 'function') {
    throw new Error(
      'src/analysis/analyze.ts must export analyzeProject(config, options) and printModel(model)',
    );
  }
  return loaded as Analyzer;
}
