// Every store-lint rule's id, in the order the docs list them (index.ts):
// what config validation and the CLI need without loading the rules, so that
// a run a watch answers does not pay for them. index.ts checks, as it loads,
// that its rules are exactly these.
export const ruleIds: readonly string[] = [
  'cache-not-invalidated-on-worker',
  'cache-not-invalidated-on-writer',
  'worker-writes',
  'missing-worker-method',
  'store-constructor',
  'invalidation-before-commit',
  'invalidation-key-mismatch',
  'cache-key-arguments',
  'duplicate-cache-name',
  'stream-without-handler',
  'unannounced-write',
  'unknown-table',
  'analysis-unresolved',
  'unused-disable',
];
