// `store-lint --watch`: lint, then lint again whenever an input changes,
// until interrupted. One process keeps TypeScript loaded and the parsed files
// (`ParsedFiles`): a re-lint parses only what changed. What counts as a
// change is what counts for `--cache`: the inputs `computeInputs` hashes. A
// file-system event only says "look again"; a save that leaves every input
// as it was (an editor's backup file, a touch) re-lints nothing.
//
// Folders are watched one by one (inotify on Linux), skipping node_modules
// and hidden folders such as .git and the cache's: a recursive watch of a
// project root would also watch every package installed under it.
import { existsSync, readdirSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { moduleStem } from '../analysis/lookalikes.js';
import { changedFiles } from './cache.js';
import { StoreLintUserError } from './errors.js';

/** Quiet time after the last event before looking: a save is often a burst (write, rename, chmod). */
export const SETTLE_MS = 50;

/** Input files by path relative to the root (some maybe outside it: `../x`), with their content hashes. */
export type InputHashes = Readonly<Record<string, string>>;

/** What one lint of the project left to watch. */
export interface WatchedRun {
  /** The project folder: watched with its subfolders. */
  readonly root: string;
  /** The inputs as they were linted; null when the run failed before knowing them. */
  readonly inputs: InputHashes | null;
  /**
   * Relative imports that resolved to no file (what they name, relative to
   * the root): a file appearing there may be no input yet changes the analysis.
   */
  readonly missingImports: readonly string[];
  /**
   * The run's last line for the user (its counts, "watching for changes"):
   * said once its folders are watched, so that a save made on reading it
   * is seen.
   */
  readonly status: string;
}

export interface WatchLoop<R extends WatchedRun = WatchedRun> {
  /**
   * Lints once and prints the results; never throws for the user's mistakes
   * (it prints them). `hashed`: the inputs as the loop hashed them just now,
   * when it did (the run need not hash them again before it starts).
   */
  run(changed: readonly string[], hashed?: InputHashes): Promise<R>;
  /** The inputs of `last`'s project as they are now. */
  inputsNow(last: R & { readonly inputs: InputHashes }): Promise<InputHashes>;
  /** Resolves when the user stops the watch (Ctrl-C). */
  readonly stopped: Promise<void>;
  /** Told about a folder that cannot be watched (once per folder). */
  onWatchError(folder: string, error: NodeJS.ErrnoException): void;
  /** Says a run's status line. */
  say(status: string): void;
}

/** What a running watch offers others (a `--cache` run that asks it: watch-answers.ts). */
export interface WatchHandle<R extends WatchedRun> {
  /**
   * The run that linted the inputs as they are when this is called: the last
   * one if nothing changed since, else the next (a change is looked for at
   * once, without waiting for the file system's events). Null when that run
   * failed, or the watch stops first. `touched`: files to take as changed
   * although they are no input (one that appeared where an import looked).
   */
  current(touched?: readonly string[]): Promise<R | null>;
}

const SKIPPED = (name: string) => name === 'node_modules' || name.startsWith('.');

/** The folders to watch: the root's tree less skipped folders, plus the folders of inputs outside it. */
export function foldersToWatch(run: WatchedRun): string[] {
  const folders = new Set<string>();
  const walk = (dir: string) => {
    folders.add(dir);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // removed meanwhile, or unreadable: the next run says so if it matters
    }
    for (const e of entries) if (e.isDirectory() && !SKIPPED(e.name)) walk(join(dir, e.name));
  };
  const root = resolve(run.root);
  walk(root);
  for (const input of Object.keys(run.inputs ?? {})) {
    const abs = resolve(root, input);
    const inside = !relative(root, abs).startsWith('..');
    if (inside && !relative(root, abs).split(sep).some(SKIPPED)) continue;
    // The nearest folder that exists: a missing input appears there.
    let dir = dirname(abs);
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    folders.add(dir);
  }
  return [...folders].sort();
}

/**
 * Whether `touched` (relative to the root) is a source file that is no input
 * yet where one of the run's unresolved imports looked. An input is judged by
 * its hash; an editor's backup (`x.ts~`) or swap file is no source.
 */
function namesMissingImport(run: WatchedRun, touched: string): boolean {
  const posix = touched.split(sep).join('/');
  const stem = moduleStem(posix);
  if (stem === posix || (run.inputs !== null && posix in run.inputs)) return false;
  return run.missingImports.some((m) => moduleStem(m) === stem);
}

/** Watches a set of folders; every event anywhere calls `onEvent` with the file's path. */
class Folders {
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #failed = new Set<string>();

  constructor(
    private readonly onEvent: (path: string) => void,
    private readonly onError: (folder: string, error: NodeJS.ErrnoException) => void,
  ) {}

  /** Watches exactly `folders`: new ones are added, gone ones closed. */
  set(folders: readonly string[]): void {
    const wanted = new Set(folders);
    for (const [dir, w] of this.#watchers) {
      if (wanted.has(dir)) continue;
      w.close();
      this.#watchers.delete(dir);
    }
    for (const dir of wanted) {
      if (this.#watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: true }, (_event, name) =>
          this.onEvent(name === null ? dir : join(dir, name.toString())),
        );
        // A watched folder that is removed ends its watcher; its parent saw the removal.
        w.on('error', () => {
          w.close();
          if (this.#watchers.get(dir) === w) this.#watchers.delete(dir);
          this.onEvent(dir);
        });
        this.#watchers.set(dir, w);
        this.#failed.delete(dir);
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        if (e.code === 'ENOENT') continue; // gone between the walk and now
        if (e.code === 'ENOSPC' || e.code === 'EMFILE') {
          throw new StoreLintUserError(
            `cannot watch ${dir}: the system's limit on watched folders or open files is reached ` +
              `(${this.#watchers.size} folders watched; on Linux raise fs.inotify.max_user_watches)`,
          );
        }
        if (!this.#failed.has(dir)) this.onError(dir, e);
        this.#failed.add(dir);
      }
    }
  }

  close(): void {
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }
}

/**
 * Lints, then re-lints after each change of an input, until `loop.stopped`
 * resolves. `onHandle` gets the handle others ask the watch through.
 */
export async function watchProject<R extends WatchedRun>(
  loop: WatchLoop<R>,
  onHandle?: (handle: WatchHandle<R>) => void,
): Promise<void> {
  let stopped = false;
  let wake: (() => void) | null = null;
  const pending = new Set<string>();
  // Who asked for the current run, answered once a look that began after
  // they asked finds nothing changed since the last run.
  const asking: ((run: R | null) => void)[] = [];
  let timer: NodeJS.Timeout | null = null;
  const folders = new Folders(
    (path) => {
      pending.add(path);
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        wake?.();
      }, SETTLE_MS);
    },
    (folder, error) => loop.onWatchError(folder, error),
  );
  void loop.stopped.then(() => {
    stopped = true;
    wake?.();
  });
  onHandle?.({
    current: (touched = []) =>
      new Promise<R | null>((answer) => {
        if (stopped) return answer(null);
        for (const t of touched) pending.add(t);
        asking.push(answer);
        wake?.();
      }),
  });
  try {
    let last = await loop.run([]);
    // Right after a run, the inputs are hashed once more without waiting for
    // an event: folders are watched only once a run has found them, so an
    // edit made before that (during the first lint, say) has no event.
    let lookNow = true;
    let said = false;
    while (!stopped) {
      folders.set(foldersToWatch(last));
      if (!said) loop.say(last.status);
      said = true;
      // Events that came while linting are looked at at once.
      if (!lookNow && asking.length === 0 && (pending.size === 0 || timer !== null)) {
        await new Promise<void>((done) => (wake = done));
        wake = null;
      }
      if (stopped) break;
      // Asked: the events still settling are looked at now, with the rest.
      const askers = asking.splice(0);
      if (askers.length > 0 && timer) {
        clearTimeout(timer);
        timer = null;
      }
      const touched = [...pending].map((p) => relative(last.root, p) || p).sort();
      pending.clear();
      const looked = lookNow;
      lookNow = false;
      let changed = touched;
      let hashed: InputHashes | undefined;
      if (last.inputs !== null && !touched.some((t) => namesMissingImport(last, t))) {
        hashed = await loop.inputsNow({ ...last, inputs: last.inputs });
        changed = changedFiles(last.inputs, hashed);
        if (changed.length === 0) {
          for (const answer of askers) answer(last);
          continue;
        }
      } else if (touched.length === 0 && (looked || askers.length > 0)) {
        // A failed run left nothing to compare with: wait for an event.
        for (const answer of askers) answer(null);
        continue;
      }
      last = await loop.run(changed, hashed);
      // Answered by the next look, right after this run: it may have missed an edit.
      asking.unshift(...askers);
      lookNow = true;
      said = false;
      // Questions that came while the run held the event loop are read
      // first, so that this one look answers them too.
      await new Promise<void>((done) => setImmediate(done));
    }
  } finally {
    stopped = true;
    if (timer) clearTimeout(timer);
    folders.close();
    for (const answer of asking.splice(0)) answer(null);
  }
}
