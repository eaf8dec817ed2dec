// Two stores and two compositions of one name in the analysed files (a
// fixture's copy under the same tsconfig). The app's composition is the one
// its config names by file, and the rules stay silent about a composition
// over an ambiguous store instead of reading one store for the other: only
// the analyser's duplicate-name facts are reported.
import { describe, expect, it } from 'vitest';
import { analyzeProject } from '../../src/analysis/index.js';
import { lint } from '../../src/lint/engine.js';
import { fixtureConfig } from '../analysis/fixture-config.js';

describe('names shared by two stores or compositions', () => {
  it('reports the duplicates and no finding that mistakes one for the other', async () => {
    const config = fixtureConfig('duplicate-names');
    const report = lint(await analyzeProject(config), { config });
    expect(report.messages.map((m) => [m.ruleId, m.location.file, m.location.line])).toEqual([
      ['analysis-unresolved', 'src/service-a/stores.ts', 6],
      ['analysis-unresolved', 'src/service-a/stores.ts', 16],
      ['analysis-unresolved', 'src/service-b/stores.ts', 6],
      ['analysis-unresolved', 'src/service-b/stores.ts', 16],
    ]);
  });
});
