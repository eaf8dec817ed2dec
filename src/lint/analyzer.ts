// The seam between the CLI and the analyser (`src/analysis/analyze.ts`):
// `analyzeProject(config, { onProgress })` builds the model, `printModel`
// renders it for `--print-model`; `--cache` uses `analyzeWithDependencies`
// (the model and the files it does not depend on) and `findRoot` (whether a
// changed file now declares something). Loaded on demand so that `--help`
// and the config checks do not pay for ts-morph.
import type { AnalysisResult } from '../analysis/analyze.js';
import type { StoreLintConfig } from '../analysis/config.js';
import type { KnownDeclarations, RootFile } from '../analysis/dependencies.js';
import type { StoreModel } from '../analysis/model.js';
import type { ParsedFiles } from '../analysis/project.js';
import type { KeptFacts } from '../analysis/kept-facts.js';
import { StoreLintUserError } from './errors.js';

export interface AnalyzeOptions {
  onProgress?(done: number, total: number, file: string): void;
  /** Parses kept between analyses of one process (`--watch`). */
  readonly parsed?: ParsedFiles;
  /** Unit facts kept between analyses of one process (`--watch`). */
  readonly kept?: KeptFacts;
  /** False: the analysis need not find the files the model does not depend on (no `--cache`). */
  readonly independentFiles?: boolean;
}

export interface Analyzer {
  analyzeProject(config: StoreLintConfig, options?: AnalyzeOptions): Promise<StoreModel>;
  analyzeWithDependencies(
    config: StoreLintConfig,
    options?: AnalyzeOptions,
  ): Promise<AnalysisResult>;
  /** The first of `files` (relative to the root) that as it is now would count for the model, or null. */
  findRoot(
    config: StoreLintConfig,
    files: readonly string[],
    known: KnownDeclarations,
  ): Promise<RootFile | null>;
  printModel(model: StoreModel): string;
  /** Parses and unit facts kept between analyses, for `--watch`. */
  readonly ParsedFiles: new () => ParsedFiles;
  readonly KeptFacts: new () => KeptFacts;
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
  const required = [
    'analyzeProject',
    'analyzeWithDependencies',
    'findRoot',
    'printModel',
    'ParsedFiles',
    'KeptFacts',
  ] as const;
  const missing = required.filter((name) => typeof loaded[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`src/analysis/analyze.ts must export ${missing.join(', ')}`);
  }
  return loaded as Analyzer;
}
