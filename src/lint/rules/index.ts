// Every store-lint rule, in the order the docs list them. Adding a rule is
// adding a module here and its id to ids.ts; the engine, formatters and SARIF
// rule table read this list, config validation the ids.
import type { Rule } from '../rule.js';
import { ruleIds } from './ids.js';
import { analysisUnresolved } from './analysis-unresolved.js';
import { cacheKeyArguments } from './cache-key-arguments.js';
import { cacheNotInvalidatedOnWorker } from './cache-not-invalidated-on-worker.js';
import { cacheNotInvalidatedOnWriter } from './cache-not-invalidated-on-writer.js';
import { duplicateCacheName } from './duplicate-cache-name.js';
import { invalidationBeforeCommit } from './invalidation-before-commit.js';
import { invalidationKeyMismatch } from './invalidation-key-mismatch.js';
import { missingWorkerMethod } from './missing-worker-method.js';
import { storeConstructor } from './store-constructor.js';
import { streamWithoutHandler } from './stream-without-handler.js';
import { unannouncedWrite } from './unannounced-write.js';
import { unknownTable } from './unknown-table.js';
import { unusedDisable } from './unused-disable.js';
import { workerWrites } from './worker-writes.js';

export const rules: readonly Rule[] = [
  cacheNotInvalidatedOnWorker,
  cacheNotInvalidatedOnWriter,
  workerWrites,
  missingWorkerMethod,
  storeConstructor,
  invalidationBeforeCommit,
  invalidationKeyMismatch,
  cacheKeyArguments,
  duplicateCacheName,
  streamWithoutHandler,
  unannouncedWrite,
  unknownTable,
  analysisUnresolved,
  unusedDisable,
];

export const UNUSED_DISABLE = unusedDisable.id;

export { ruleIds };

// The ids that config validation reads without loading the rules must be theirs.
if (rules.map((r) => r.id).join() !== ruleIds.join()) {
  throw new Error(`src/lint/rules/ids.ts must list ${rules.map((r) => r.id).join(', ')}`);
}

export function ruleById(id: string): Rule | undefined {
  return rules.find((r) => r.id === id);
}
