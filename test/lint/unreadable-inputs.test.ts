// Inputs that exist but cannot be read (no permission on the file or on a
// folder on its way) are one line naming the file and the reason, exit 2,
// never a stack trace or "does not exist". Root ignores file modes, so the
// file system refuses the paths in `refused` here as it would refuse
// another user.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/lint/cli.js';

const refused = vi.hoisted(() => new Set<string>());

function denied(syscall: string, path: string): Error {
  return Object.assign(new Error(`EACCES: permission denied, ${syscall} '${path}'`), {
    code: 'EACCES',
    errno: -13,
    syscall,
    path,
  });
}

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const statSync = ((path: string, ...rest: unknown[]) => {
    if (refused.has(String(path))) throw denied('stat', String(path));
    return (fs.statSync as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.statSync;
  return { ...fs, default: { ...fs, statSync }, statSync };
});

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = ((path: string, ...rest: unknown[]) =>
    refused.has(String(path))
      ? Promise.reject(denied('open', String(path)))
      : (fs.readFile as (...args: unknown[]) => Promise<unknown>)(
          path,
          ...rest,
        )) as typeof fs.readFile;
  return { ...fs, default: { ...fs, readFile }, readFile };
});

const PROJECT = fileURLToPath(new URL('../fixtures/rules/worker-writes/failing/', import.meta.url));

async function runHere(args: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    cwd,
    env: { NO_COLOR: '1', CI: '1' },
    stdoutIsTTY: false,
    stderrIsTTY: false,
  });
  return { code, stdout, stderr };
}

afterEach(() => refused.clear());

describe('unreadable inputs', { timeout: 60_000 }, () => {
  it('names a schema file that cannot be read, with the reason', async () => {
    refused.add(join(PROJECT, 'schema', '001_app.sql'));
    expect(await runHere([], PROJECT)).toEqual({
      code: 2,
      stdout: '',
      stderr: 'store-lint: schema/001_app.sql: cannot read file: permission denied\n',
    });
  });

  it('says that a store file behind an unsearchable folder cannot be read, not that it does not exist', async () => {
    refused.add(join(PROJECT, 'src', 'stores', 'main.ts'));
    expect(await runHere([], PROJECT)).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'store-lint: store-lint.config.json: apps.main.store: cannot read src/stores/main.ts: permission denied\n',
    });
  });
});
