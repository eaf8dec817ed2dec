// A `store-lint --watch` child process for tests: the real executable, and
// waits for the lines it prints (watch.test.ts, watch-answers.test.ts); and
// a one-off run with JSON output, as a hook runs it (daemon.test.ts too).
import { spawn, type ChildProcess } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { ANSWER_PROTOCOL, type AnswerRequest } from '../../src/lint/answer-socket.js';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/store-lint', import.meta.url));
export const STATUS = /^store-lint: (\d+) errors?, (\d+) warnings? \(linted in [^)]*\); watching/;

/** A `store-lint --watch` process and what it printed so far. */
export class Watcher {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly #waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(args: string[], cwd: string) {
    this.child = spawn(process.execPath, [BIN, '--watch', ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const heard = () => this.#waiters.forEach((w) => w());
    this.child.stdout!.on('data', (c: Buffer) => ((this.stdout += c.toString()), heard()));
    this.child.stderr!.on('data', (c: Buffer) => ((this.stderr += c.toString()), heard()));
    this.exited = new Promise((done) => this.child.on('exit', (code) => (heard(), done(code))));
  }

  get statusLines(): string[] {
    return this.stderr.split('\n').filter((l) => STATUS.test(l));
  }

  /** Waits until stderr has `count` lines matching `pattern`; returns the last. */
  async nth(pattern: RegExp, count: number): Promise<string> {
    for (;;) {
      const lines = this.stderr.split('\n').filter((l) => pattern.test(l));
      if (lines.length >= count) return lines[count - 1]!;
      if (this.child.exitCode !== null)
        throw new Error(`store-lint --watch exited (${this.child.exitCode}):\n${this.stderr}`);
      await new Promise<void>((done) => {
        const w = () => (this.#waiters.delete(w), done());
        this.#waiters.add(w);
      });
    }
  }

  /** The `count`-th status line, as [errors, warnings, line]. */
  async status(count: number): Promise<[number, number, string]> {
    const line = await this.nth(STATUS, count);
    const [, errors, warnings] = STATUS.exec(line)!;
    return [Number(errors), Number(warnings), line];
  }
}

/**
 * Saves as most editors do: a new file renamed over the old one. (Written in
 * place, a file can be read half-written; the watcher then lints that, and
 * again once the write's own event comes: right in the end, one lint more.)
 */
export async function save(path: string, text: string): Promise<void> {
  await writeFile(`${path}.saving`, text);
  await rename(`${path}.saving`, path);
}

export interface JsonRun {
  readonly code: number | null;
  /** The rule of each finding, in order. */
  readonly rules: string[];
  readonly stderr: string;
}

/** `store-lint --format json …args` in `cwd` with `env` added; fails when it prints no JSON. */
export function lintJson(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<JsonRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, '--format', 'json', ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      try {
        const files = JSON.parse(stdout) as { messages: { ruleId: string }[] }[];
        done({ code, rules: files.flatMap((f) => f.messages.map((m) => m.ruleId)), stderr });
      } catch {
        fail(
          new Error(
            `store-lint ${args.join(' ')} printed no JSON (${code}):\n${stdout}\n${stderr}`,
          ),
        );
      }
    });
  });
}

/** A question as a run of another build of store-lint asks it. */
export function otherBuildRequest(configPath: string): AnswerRequest {
  return {
    protocol: ANSWER_PROTOCOL,
    configPath,
    tool: 'another build',
    lintSettings: 'x',
    baseline: null,
  };
}
