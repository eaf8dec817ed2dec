// The store-lint entry point behind bin/store-lint: run the CLI, exit with
// its status (0 clean, 1 findings, 2 the run failed; never a count).
import { main } from '../src/lint/cli.js';

process.exitCode = await main(process.argv.slice(2));
