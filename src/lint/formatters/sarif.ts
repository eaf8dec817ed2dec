// SARIF 2.1.0 for GitHub code scanning, by a small emitter of our own (the
// ESLint SARIF formatter drags in a second ESLint). It writes the fields code
// scanning needs: the driver and its rule table (id, descriptions, help,
// default level), and per result the rule, level, message, one physical
// location with a full region, and `partialFingerprints`. Fingerprints are
// identities (file, rule, store, method, table, composition), not line
// hashes, so a result survives edits that move it within its file. Code
// scanning itself ignores them: it tracks alerts by primaryLocationLineHash,
// which upload-sarif computes; ours serve other SARIF consumers. Paths are
// relative to GITHUB_WORKSPACE when it is set and holds every file (the
// repository root, against which code scanning resolves them), else to the
// working directory; the fingerprints never depend on either.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { LintReport } from '../engine.js';
import { baselineKeyOf } from '../baseline.js';
import { absolutePath, displayPath, githubBase, isInside } from './paths.js';
import type { FormatContext } from './types.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
// v2: the file joined the identity, and quoted code lost its layout (a new algorithm, a new version).
export const FINGERPRINT_KEY = 'storeLintIdentity/v2';

const MAX_TEXT = 1024;

function clip(s: string): string {
  return s.length <= MAX_TEXT ? s : `${s.slice(0, MAX_TEXT - 1)}…`;
}

/**
 * A path relative to %SRCROOT% as a relative reference: each segment
 * percent-encoded, so `#` and `?` stay in the path (encodeURI left them to
 * start a fragment or query) and a `:` cannot make a first segment a scheme.
 */
function relativeUri(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** `worker-writes` → `WorkerWrites`: SARIF wants a rule's `name` to differ from its `id` (SARIF1001). */
function ruleName(id: string): string {
  return id
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

function level(severity: 1 | 2 | 'warn' | 'error'): 'error' | 'warning' {
  return severity === 2 || severity === 'error' ? 'error' : 'warning';
}

export function formatSarif(report: LintReport, context: FormatContext): string {
  const rules = report.rules.map(({ rule, severity }) => ({
    id: rule.id,
    name: ruleName(rule.id),
    shortDescription: { text: clip(rule.meta.description) },
    fullDescription: { text: clip(rule.meta.description) },
    // The description itself: the doc pages are not in the published package,
    // and their repository path means nothing in the linted repository.
    help: {
      text: clip(rule.meta.description),
      markdown: clip(rule.meta.description),
    },
    defaultConfiguration: { level: level(severity) },
    properties: {
      tags: ['store-lint', 'correctness'],
      precision: 'high',
      'problem.severity': level(severity),
    },
  }));
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));

  // Code scanning resolves a URI against the repository root, so on an
  // Actions runner paths are relative to GITHUB_WORKSPACE (as -f github names
  // them), unless some file lies outside it; %SRCROOT% says which directory.
  const workspace = githubBase(context);
  const base = report.messages.every((m) =>
    isInside(workspace, absolutePath(report.root, m.location.file)),
  )
    ? workspace
    : context.cwd;

  const occurrences = new Map<string, number>();
  const results = report.messages.map((m) => {
    const key = baselineKeyOf(m.ruleId, m.subject);
    // Per file: with the file in the identity, the occurrence counter that
    // tells equal identities apart counts within one file, so editing one
    // file never renumbers (or takes over) another file's fingerprints.
    const identity = [
      m.location.file,
      key.rule,
      key.store,
      key.method,
      key.table,
      m.subject.composition ?? '',
      m.messageId,
    ].join('\0');
    const n = occurrences.get(identity) ?? 0;
    occurrences.set(identity, n + 1);
    const fingerprint = createHash('sha256').update(identity).digest('hex').slice(0, 32);
    const index = ruleIndex.get(m.ruleId);
    return {
      ruleId: m.ruleId,
      ...(index === undefined ? {} : { ruleIndex: index }),
      level: level(m.severity),
      message: { text: m.message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: {
              uri: relativeUri(displayPath(report.root, m.location.file, base)),
              uriBaseId: '%SRCROOT%',
            },
            region: {
              startLine: m.location.line,
              startColumn: m.location.column,
              endLine: m.location.endLine,
              endColumn: m.location.endColumn,
            },
          },
        },
      ],
      partialFingerprints: { [FINGERPRINT_KEY]: `${fingerprint}:${n + 1}` },
    };
  });

  const srcRoot = pathToFileURL(base).href.replace(/\/?$/, '/');
  const workingDirectory = pathToFileURL(context.cwd).href.replace(/\/?$/, '/');
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'store-lint',
            semanticVersion: context.toolVersion,
            rules,
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: srcRoot } },
        invocations: [{ executionSuccessful: true, workingDirectory: { uri: workingDirectory } }],
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
