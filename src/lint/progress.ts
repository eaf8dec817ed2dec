// Progress on a terminal: one line on stderr, rewritten in place, at most
// every 100 ms; nothing at all when stderr is not a TTY, in CI, or on a
// terminal that cannot rewrite a line (TERM=dumb: Emacs shells, some IDE
// consoles show the control sequences as text).
export interface ProgressSink {
  write(text: string): unknown;
}

export interface Progress {
  update(done: number, total: number, file: string): void;
  done(): void;
}

/**
 * Whether this is a CI run: `CI` set to anything but `''`, `false` or `0`
 * (`CI=false` is how a user says "not CI", as `is-ci` and `ci-info` read it).
 */
export function isCI(env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/** Whether a run shows its progress line: on a terminal that can rewrite it, outside CI. */
export function showsProgress(
  env: Readonly<Record<string, string | undefined>>,
  stderrIsTTY: boolean,
): boolean {
  return stderrIsTTY && !isCI(env) && env.TERM !== 'dumb';
}

const SILENT: Progress = { update() {}, done() {} };

export function createProgress(sink: ProgressSink, enabled: boolean, columns = 80): Progress {
  if (!enabled) return SILENT;
  let last = 0;
  let shown = false;
  return {
    update(done, total, file) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const head = `store-lint: analysing ${done}/${total} `;
      const room = Math.max(10, columns - head.length - 1);
      const tail = file.length > room ? `…${file.slice(file.length - room + 1)}` : file;
      sink.write(`\r\x1b[K${head}${tail}`);
      shown = true;
    },
    done() {
      if (shown) sink.write('\r\x1b[K');
      shown = false;
    },
  };
}
