// File stamps let a long-running process skip reading a file it read before
// (`ParsedFiles`, `FileHashes`). The property users rely on: an edit is
// never missed, not even one made in the same clock tick with the same size;
// the saving: a file left alone for a while is not read again.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stampOf, unchangedSince, type FileStamp } from '../../src/analysis/file-stamps.js';
import { ParsedFiles, parseProjectFile } from '../../src/analysis/project.js';
import { FileHashes } from '../../src/lint/cache.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'store-lint-stamps-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const S = 1_000_000_000n;
const stamp = (over: Partial<FileStamp> = {}): FileStamp => ({
  size: 10n,
  mtimeNs: 100n * S,
  ctimeNs: 100n * S,
  ino: 7n,
  takenNs: 200n * S,
  ...over,
});

describe('unchangedSince', () => {
  it('holds for the same file left alone, and not for one gone', () => {
    expect(unchangedSince(stamp(), stamp({ takenNs: 300n * S }))).toBe(true);
    expect(unchangedSince(stamp(), null)).toBe(false);
  });

  it('fails when any of size, times or inode differs', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('size', 'mtimeNs', 'ctimeNs', 'ino' as const),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        (field, delta) => {
          const now = stamp({ [field]: stamp()[field] + delta });
          expect(unchangedSince(stamp(), now)).toBe(false);
        },
      ),
    );
  });

  it('does not trust a stamp taken within two seconds of a write', () => {
    expect(unchangedSince(stamp({ takenNs: 101n * S }), stamp())).toBe(false);
    expect(
      unchangedSince(
        stamp({ mtimeNs: 199n * S, ctimeNs: 199n * S }),
        stamp({ mtimeNs: 199n * S, ctimeNs: 199n * S }),
      ),
    ).toBe(false);
  });
});

describe('a process that keeps what it read', () => {
  it('sees a rewrite of the same size made right after the file was read', async () => {
    const file = path.join(tmp, 'same-size.ts');
    const parsed = new ParsedFiles();
    const hashes = new FileHashes();
    await writeFile(file, 'export const a = 1;\n');
    parsed.nextAnalysis();
    expect(parseProjectFile(tmp, file, parsed).sf.text).toContain('a = 1');
    const before = hashes.hash(file);
    await writeFile(file, 'export const a = 2;\n');
    parsed.nextAnalysis();
    expect(parseProjectFile(tmp, file, parsed).sf.text).toContain('a = 2');
    expect(hashes.hash(file)).not.toBe(before);
    expect(parsed.unread).toBe(0);
  });

  it('reads a file left alone for a while no more, and reads it again once written', async () => {
    const file = path.join(tmp, 'left-alone.ts');
    await writeFile(file, 'export const b = 1;\n');
    // Stamps taken this close to the write are not trusted: wait them out.
    await new Promise((done) => setTimeout(done, 2_100));
    const parsed = new ParsedFiles();
    const hashes = new FileHashes();
    parsed.nextAnalysis();
    const first = parseProjectFile(tmp, file, parsed);
    const hash = hashes.hash(file);
    parsed.nextAnalysis();
    expect(parseProjectFile(tmp, file, parsed)).toBe(first);
    expect(hashes.hash(file)).toBe(hash);
    expect(parsed.unread).toBe(1);
    expect(hashes.reads).toBe(1);
    await writeFile(file, 'export const b = 22;\n');
    parsed.nextAnalysis();
    expect(parseProjectFile(tmp, file, parsed).sf.text).toContain('b = 22');
    expect(hashes.hash(file)).not.toBe(hash);
    expect(stampOf(path.join(tmp, 'nowhere.ts'))).toBeNull();
  });
});
