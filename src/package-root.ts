// The storesplit package's root folder: the nearest folder upward from this
// module whose package.json names storesplit. Found at run time so that the
// same code works from src/ (a checkout, through tsx) and from dist/src/ (the
// published package), whose depths differ.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageRoot {
  readonly dir: string;
  readonly version: string;
}

function findPackageRoot(): PackageRoot {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'storesplit' && pkg.version) return { dir, version: pkg.version };
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`storesplit: no package.json above ${start}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT: PackageRoot = findPackageRoot();
