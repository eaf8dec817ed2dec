// Run by packaged-cli.test.ts from inside a laid-out package: the compiled
// runtime migrates its own schema on the embedded database and prints the
// names it applied as JSON.
import { createDatabase, migrate } from './dist/src/index.js';

const db = await createDatabase();
try {
  const result = await migrate(db);
  process.stdout.write(JSON.stringify(result.applied));
} finally {
  await db.destroy();
}
