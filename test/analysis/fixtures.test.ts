// One test per idiom fixture under test/fixtures/analysis/<idiom>/: analyse the
// fixture project and check the facts its expected.json lists.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';
import { analyzeProject } from '../../src/analysis/index.js';
import { checkExpectations, type Expected } from './expectations.js';
import { FIXTURES, fixtureConfig } from './fixture-config.js';

const fixtures = readdirSync(FIXTURES).filter((d) =>
  existsSync(path.join(FIXTURES, d, 'expected.json')),
);

describe('analysis fixtures', () => {
  it.each(fixtures)(
    '%s',
    async (name) => {
      const expected = JSON.parse(
        readFileSync(path.join(FIXTURES, name, 'expected.json'), 'utf8'),
      ) as Expected;
      const model = await analyzeProject(fixtureConfig(name));
      checkExpectations(model, expected);
      // Fixtures that need the type checker build a program over the runtime and Kysely's types.
    },
    120_000,
  );
});
