// Progress on a terminal: one line on stderr, rewritten in place, at most
// every 100 ms; nothing at all when stderr is not a TTY or in CI.
export interface ProgressSink {
  write(text: string): unknown;
}

export interface Progress {
  update(done: number, total: number, file: string): void;
  done(): void;
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
