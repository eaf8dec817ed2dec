// Prints a fixture's model (a development aid): `npx tsx test/analysis/print-fixture.ts <fixture>`.
import { analyzeProject, printModel } from '../../src/analysis/index.js';
import { fixtureConfig } from './fixture-config.js';

const name = process.argv[2] ?? 'app';
const model = await analyzeProject(fixtureConfig(name));
process.stdout.write(printModel(model));
