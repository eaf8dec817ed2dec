// The analyser's public surface for src/lint and the CLI.
export {
  analyzeProject,
  analyzeWithDependencies,
  lastAnalysisStats,
  type AnalysisResult,
  type AnalyzeOptions,
  type AnalysisStats,
} from './analyze.js';
export { AnalysisInputError } from './errors.js';
export { printModel } from './print-model.js';
export * from './model.js';
export type { StoreLintConfig, AppConfig, Severity } from './config.js';
