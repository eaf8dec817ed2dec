// The analyser's public surface for src/lint and the CLI.
export {
  analyzeProject,
  lastAnalysisStats,
  type AnalyzeOptions,
  type AnalysisStats,
} from './analyze.js';
export { AnalysisInputError } from './errors.js';
export { printModel } from './print-model.js';
export * from './model.js';
export type { StoreLintConfig, AppConfig, Severity } from './config.js';
