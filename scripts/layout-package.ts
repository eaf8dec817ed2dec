// The published package, not the checkout: the files `npm pack` would ship
// (package.json `files`), with the sources compiled to dist/ as `npm run
// build` does, laid out in a folder of their own, with the checkout's
// node_modules linked in as an installed package would see its dependencies.
// Used by the packaged-CLI test and by the store-lint benchmark, which both
// run store-lint the way users do: plain Node on compiled JavaScript.
//
// The compile uses TypeScript 7 (`typescript7`), which emits the same
// JavaScript for this code base as `npm run build` in a fraction of the time.
import { execFile } from 'node:child_process';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL('../', import.meta.url));
const TSC7 = join(REPO, 'node_modules', 'typescript7', 'bin', 'tsc');

/** Files besides dist/ that package.json `files` ships. */
const SHIPPED = ['package.json', 'README.md', 'schema', join('bin', 'store-lint')];

/** Lays the package out in `dest` (created if missing; expected to be empty). */
export async function layoutPackage(dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  await exec(
    process.execPath,
    [TSC7, '-p', 'tsconfig.build.json', '--outDir', join(dest, 'dist')],
    {
      cwd: REPO,
    },
  );
  for (const entry of SHIPPED) {
    await cp(join(REPO, entry), join(dest, entry), { recursive: true });
  }
  // npm pack never packs node_modules, so the link does not change what ships.
  await symlink(join(REPO, 'node_modules'), join(dest, 'node_modules'), 'dir');
}
