// Running a chat role as its own OS process (`node --import tsx main.ts
// <role> …`): the demo on Postgres and the end-to-end tests do. A child says
// it is ready with one stdout line, `CHAT_READY {json}`, naming its ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChatRole } from './process.js';

export const READY_PREFIX = 'CHAT_READY ';
export const MAIN_PATH = fileURLToPath(new URL('../main.ts', import.meta.url));

export interface ReadyLine {
  readonly role: ChatRole;
  readonly name: string;
  readonly url: string;
  readonly replicationPort?: number;
}

export interface ChildRole extends ReadyLine {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  readonly exited: Promise<number | string>;
  /** The last lines the child wrote to stderr (for error messages). */
  readonly stderrTail: () => string;
  /** SIGTERM (an orderly stop), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | string>;
  /** SIGKILL: a crash, nothing cleaned up. */
  kill(): Promise<number | string>;
}

/** Starts `main.ts <role> <args…>` and resolves once it printed its ready line. */
export function spawnRole(
  role: ChatRole,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; startTimeoutMs?: number; echoStderr?: boolean } = {},
): Promise<ChildRole> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN_PATH, role, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (options.echoStderr) process.stderr.write(chunk);
    stderr.push(chunk);
    if (stderr.length > 200) stderr.splice(0, stderr.length - 200);
  });
  const stderrTail = () => stderr.join('').split('\n').slice(-30).join('\n');

  const signal = async (sig: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(sig);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    }
    return exited;
  };

  return new Promise<ChildRole>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${role} did not start within ${options.startTimeoutMs ?? 60_000} ms:\n${stderrTail()}`,
        ),
      );
    }, options.startTimeoutMs ?? 60_000);
    const onExit = (code: number | string) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited (${code}) before it was ready:\n${stderrTail()}`));
    };
    void exited.then(onExit);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith(READY_PREFIX)) continue;
        clearTimeout(timer);
        const ready = JSON.parse(line.slice(READY_PREFIX.length)) as ReadyLine;
        resolve({
          ...ready,
          child,
          exited,
          stderrTail,
          stop: (graceMs = 10_000) => signal('SIGTERM', graceMs),
          kill: () => signal('SIGKILL', 0),
        });
      }
    });
  });
}
