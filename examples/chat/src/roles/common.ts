// What every chat process has: options, an HTTP server for the API, the
// in-process consistency check, and an orderly stop.
import { createServer, type Server } from 'node:http';
import { inspect } from 'node:util';
import type { AddressInfo } from 'node:net';
import {
  createServerContext,
  openStore,
  type DatabaseHandle,
  type ServerContext,
} from '../../../../src/index.js';
import { checkCacheConsistency, type ConsistencyReport } from '../consistency.js';
import type { ChatDB } from '../db.js';
import { chatProbes } from '../probes.js';
import type { ReplicationSettings } from '../replication.js';
import { ReaderDataStore, type ChatStore } from '../stores/compositions.js';
import type { Router } from '../http/router.js';

export type ChatRole = 'writer' | 'reader' | 'consumer';
export const CHAT_ROLES: readonly ChatRole[] = ['writer', 'reader', 'consumer'];

export type Log = (message: string, error?: unknown) => void;

export interface ChatProcessOptions {
  readonly role: ChatRole;
  /** This process's instance name. */
  readonly name: string;
  readonly db: DatabaseHandle<ChatDB>;
  /** Destroy `db` on stop (when the process opened it). */
  readonly ownsDb?: boolean;
  /** Where the API listens; port 0 picks a free one. */
  readonly http: { readonly host: string; readonly port: number };
  /** The writer listens here; workers connect here. */
  readonly replication: ReplicationSettings;
  /** The writer's instance name (on the writer: its own name). */
  readonly writerInstance: string;
  /** Workers: the writer's API base URL, where writes are forwarded. */
  readonly writerUrl?: string;
  /** Guards replication (AUTH) and the internal endpoints. */
  readonly secret?: string;
  readonly log: Log;
}

export interface ChatProcess {
  readonly role: ChatRole;
  readonly name: string;
  readonly store: ChatStore;
  /** The API's base URL, e.g. `http://127.0.0.1:8081`. */
  readonly url: string;
  readonly httpPort: number;
  /** The writer: where replication listens. */
  readonly replicationPort?: number;
  /** Stops serving, replicating and (if owned) closes the database. */
  stop(): Promise<void>;
}

export function serverContext(options: ChatProcessOptions): ServerContext {
  return createServerContext({
    instanceName: options.name,
    role: options.role === 'writer' ? 'writer' : 'worker',
    config: { writer: options.writerInstance },
  });
}

/** Starts the API's HTTP server; resolves with it and its port. */
export async function listen(
  router: Router,
  http: ChatProcessOptions['http'],
): Promise<{ server: Server; port: number; url: string }> {
  const server = createServer(router.listener());
  // Long polls hold a request open for up to a minute.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(http.port, http.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = http.host.includes(':') ? `[${http.host}]` : http.host;
  return { server, port, url: `http://${host}:${port}` };
}

export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/**
 * The in-process cache check (`POST /_internal/consistency`): every cached
 * read of `store` against a fresh read, over probes from the database.
 */
export function consistencyCheck(
  options: ChatProcessOptions,
  store: ChatStore,
): () => Promise<ConsistencyReport> {
  return async () => {
    const oracle = await openStore(
      ReaderDataStore,
      options.db,
      createServerContext({
        instanceName: `${options.name}-oracle`,
        role: 'worker',
        config: { writer: options.writerInstance },
      }),
    );
    try {
      return await checkCacheConsistency({
        targets: [{ name: options.name, store }],
        oracle,
        probes: await chatProbes(options.db),
      });
    } finally {
      await oracle.close();
    }
  };
}

/** Runs each step even when an earlier one fails; throws the first failure. */
export async function runAll(steps: ReadonlyArray<() => Promise<void> | void>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length) {
    throw errors[0] instanceof Error ? errors[0] : new Error(inspect(errors[0]));
  }
}
