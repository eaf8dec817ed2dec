// The socket a `store-lint --watch` answers `--cache` runs on (what it
// answers: watch-answers.ts).
//
// One Unix socket per config file, in a folder only this user may enter
// (`<tmpdir>/store-lint-<uid>/`): another user can neither read the reports
// nor pose as the watch. Lines of JSON each way:
//   → { protocol, configPath, tool, lintSettings, baseline }
//   ← { accepted, pid }, then { working, progress? } every 200 ms (what the
//     watch's lint has done so far, for the asker's progress line), then
//     { report }
//   ← or { declined }: another build of store-lint, another project.
// A run that hears nothing for QUIET_LIMIT_MS (a watch stopped with Ctrl-Z)
// lints by itself.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LintReport } from './engine.js';
import { loadReport, storeReport, type StoredReport } from './stored-report.js';

export const ANSWER_PROTOCOL = 1;
/** Silence after which the asking run stops waiting and lints by itself. */
export const QUIET_LIMIT_MS = 10_000;
const WORKING_EVERY_MS = 200;

/** How far the watch's lint is: files analysed of all, and the one at hand. */
export interface WorkProgress {
  readonly done: number;
  readonly total: number;
  readonly file: string;
}

/** What a `--cache` run asks. */
export interface AnswerRequest {
  readonly protocol: typeof ANSWER_PROTOCOL;
  /** The config file, absolute: the project. */
  readonly configPath: string;
  /** `buildStamp()`: the same build of store-lint. */
  readonly tool: string;
  /** `lintOptionsKey()` of the asking run: rule severities and baseline entries. */
  readonly lintSettings: string;
  /** The asking run's baseline file, absolute, or null. */
  readonly baseline: string | null;
}

/** The watch's answer: a report for exactly the request's settings, or why not. */
export type Answer = { readonly report: LintReport } | { readonly declined: string };

type Line =
  | { readonly accepted: true; readonly pid: number }
  | { readonly working: true; readonly progress?: WorkProgress }
  | { readonly report: StoredReport }
  | { readonly declined: string };

/**
 * The socket of `configPath`'s watch, or null where there can be none: no
 * Unix sockets (Windows), or a socket folder that is not this user's alone.
 */
export function answerSocketPath(configPath: string): string | null {
  const uid = process.getuid?.();
  if (uid === undefined) return null;
  const dir = join(tmpdir(), `store-lint-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return null;
  }
  try {
    const s = lstatSync(dir);
    if (!s.isDirectory() || s.uid !== uid || (s.mode & 0o077) !== 0) return null;
  } catch {
    return null;
  }
  const name = createHash('sha256').update(configPath).digest('hex').slice(0, 24);
  return join(dir, `${name}.sock`);
}

/** Why a watch does not answer: another one already does, or no socket could be made. */
export class NotAnsweringError extends Error {}

/**
 * Told of each question as it comes, and of its answer once sent (or once
 * the asker is gone); asked how far the lint under way is.
 */
export interface AnswerObserver {
  asked?(request: AnswerRequest): void;
  answered?(request: AnswerRequest, answer: Answer): void;
  progress?(): WorkProgress | null;
}

/**
 * Listens on `path`, answering each request with `answer`. A socket left by
 * a watch that died is replaced; a live one is not (NotAnsweringError).
 */
export async function serveAnswers(
  path: string,
  answer: (request: AnswerRequest) => Promise<Answer>,
  observer: AnswerObserver = {},
): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    handle(socket, answer, observer);
  });
  try {
    await listen(server, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    if (await answersAt(path)) {
      throw new NotAnsweringError('another store-lint --watch answers for this project');
    }
    unlinkSync(path);
    await listen(server, path);
  }
  return {
    // Askers still connected then lint by themselves; an idle connection
    // must not keep the watch from exiting.
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(path, () => {
      server.off('error', fail);
      done();
    });
  });
}

/** Whether something accepts connections at `path`. */
function answersAt(path: string): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection(path);
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

function send(socket: Socket, line: Line): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(line)}\n`);
}

function handle(
  socket: Socket,
  answer: (request: AnswerRequest) => Promise<Answer>,
  observer: AnswerObserver,
): void {
  let buffered = '';
  socket.on('error', () => socket.destroy()); // the asker went away: nothing to tell
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const end = buffered.indexOf('\n');
    if (end < 0) return;
    socket.removeAllListeners('data');
    const request = parseRequest(buffered.slice(0, end));
    if (!request) {
      send(socket, { declined: `not a store-lint request (protocol ${ANSWER_PROTOCOL})` });
      socket.end();
      return;
    }
    observer.asked?.(request);
    send(socket, { accepted: true, pid: process.pid });
    const working = setInterval(() => {
      const progress = observer.progress?.() ?? null;
      send(socket, progress ? { working: true, progress } : { working: true });
    }, WORKING_EVERY_MS);
    void answer(request)
      .catch((error: unknown): Answer => ({
        declined: `the watch failed: ${error instanceof Error ? error.message : String(error)}`,
      }))
      .then((a) => {
        clearInterval(working);
        let told = false;
        const tell = () => {
          if (told) return;
          told = true;
          observer.answered?.(request, a);
        };
        if (socket.destroyed) return tell(); // the asker went away
        send(socket, 'report' in a ? { report: storeReport(a.report) } : a);
        socket.once('close', tell);
        socket.end(tell);
      });
  });
}

function parseRequest(text: string): AnswerRequest | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const r = value as Partial<Record<keyof AnswerRequest, unknown>> | null;
  const ok =
    typeof r === 'object' &&
    r !== null &&
    r.protocol === ANSWER_PROTOCOL &&
    typeof r.configPath === 'string' &&
    typeof r.tool === 'string' &&
    typeof r.lintSettings === 'string' &&
    (r.baseline === null || typeof r.baseline === 'string');
  return ok ? (value as AnswerRequest) : null;
}

/** A watch's answer to a `--cache` run, with the watch's process id. */
export type Asked =
  | { readonly report: LintReport; readonly pid: number }
  | { readonly declined: string; readonly pid: number };

/**
 * Asks the watch at `path`, if one runs. Null when none answers: no socket,
 * a dead one, a watch silent for QUIET_LIMIT_MS, or a reply this build
 * cannot read. The caller then lints by itself. `onProgress` hears how far
 * the watch's lint is while it waits.
 */
export function askWatch(
  path: string,
  request: AnswerRequest,
  onProgress: (progress: WorkProgress) => void = () => {},
): Promise<Asked | null> {
  return new Promise((done) => {
    let settled = false;
    let pid = 0;
    let buffered = '';
    const socket = createConnection(path);
    const finish = (result: Asked | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(quiet);
      socket.destroy();
      done(result);
    };
    let quiet = setTimeout(() => finish(null), QUIET_LIMIT_MS);
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(quiet);
      quiet = setTimeout(() => finish(null), QUIET_LIMIT_MS);
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const line = readLine(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
        if (line === null) return finish(null);
        if ('accepted' in line) pid = line.pid;
        else if ('working' in line) {
          if (line.progress) onProgress(line.progress);
        } else if ('declined' in line) return finish({ declined: line.declined, pid });
        else if ('report' in line) {
          const report = loadReport(line.report);
          return finish(report ? { report, pid } : null);
        }
      }
    });
  });
}

function readLine(text: string): Line | null {
  try {
    const value = JSON.parse(text) as Partial<Record<string, unknown>> | null;
    if (typeof value !== 'object' || value === null) return null;
    if (value.accepted === true && typeof value.pid === 'number') return value as Line;
    if (value.working === true) {
      const p = value.progress as Partial<Record<keyof WorkProgress, unknown>> | undefined;
      const ok =
        p === undefined ||
        (typeof p === 'object' &&
          p !== null &&
          typeof p.done === 'number' &&
          typeof p.total === 'number' &&
          typeof p.file === 'string');
      return ok ? (value as Line) : { working: true };
    }
    if (typeof value.declined === 'string') return value as Line;
    if ('report' in value) return value as Line;
    return null;
  } catch {
    return null;
  }
}
