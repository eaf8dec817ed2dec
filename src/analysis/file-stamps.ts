// What `stat` says of a file, enough for a long-running process
// (`store-lint --watch`) to tell that a file it read before was not written
// since, without reading it again. As git does for its index, a stamp taken
// within a moment of the file's last write is not trusted: a second write in
// the same clock tick of a coarse file system would leave it unchanged.
import { statSync } from 'node:fs';

/** Writes this close before a stamp was taken may hide another (ns; some file systems keep 2 s). */
const RACY_NS = 2_000_000_000n;

export interface FileStamp {
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  /** When the stamp was taken (wall clock, ns). */
  readonly takenNs: bigint;
}

/** The file's stamp now; null when it cannot be read (gone, or no file). Take it before reading the file. */
export function stampOf(path: string): FileStamp | null {
  const takenNs = BigInt(Date.now()) * 1_000_000n;
  try {
    const s = statSync(path, { bigint: true });
    if (!s.isFile()) return null;
    return { size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, ino: s.ino, takenNs };
  } catch {
    return null;
  }
}

/** Whether `now` shows the file as it was when `then` was taken (then: taken before it was read). */
export function unchangedSince(then: FileStamp, now: FileStamp | null): boolean {
  return (
    now !== null &&
    now.size === then.size &&
    now.mtimeNs === then.mtimeNs &&
    now.ctimeNs === then.ctimeNs &&
    now.ino === then.ino &&
    then.mtimeNs + RACY_NS < then.takenNs &&
    then.ctimeNs + RACY_NS < then.takenNs
  );
}
