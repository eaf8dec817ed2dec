// The chat server's entry point: `npm run example -- <writer|reader|consumer|demo> [options]`
// (`--help` lists the options and their environment variables). `npm start`
// runs `demo`.
import { inspect } from 'node:util';
import { DatabaseConfigError, MigrationError } from '../../src/index.js';
import { READY_PREFIX, type ReadyLine } from './src/children.js';
import { parseCli, type CliOptions } from './src/cli.js';
import { isPostgresUrl, openChatDatabase } from './src/db.js';
import { runDemo } from './src/demo.js';
import { startChatProcess, type ChatRole } from './src/process.js';
import { checkTransport, TransportUnavailableError } from './src/replication.js';

function log(message: string, error?: unknown): void {
  const detail =
    error === undefined ? '' : `: ${error instanceof Error ? error.message : inspect(error)}`;
  process.stderr.write(`${new Date().toISOString()} ${message}${detail}\n`);
}

async function runRole(role: ChatRole, options: CliOptions): Promise<void> {
  if (role !== 'writer' && !isPostgresUrl(options.db)) {
    throw new UsageError(
      `a ${role} shares the writer's database: pass --db postgres://… (or set DATABASE_URL). ` +
        'Embedded PGlite serves one process; `demo` runs every role in one process on it.',
    );
  }
  checkTransport({ transport: options.transport, redisUrl: options.redis });
  const db = await openChatDatabase({
    ...(options.db === undefined ? {} : { url: options.db }),
    ...(options.schema === undefined ? {} : { schema: options.schema }),
  });
  const started = await startChatProcess({
    role,
    name: options.name,
    db,
    ownsDb: true,
    http: options.http,
    replication: {
      transport: options.transport,
      ...options.replication,
      ...(options.redis === undefined ? {} : { redisUrl: options.redis }),
      serverName: options.serverName,
      ...(options.secret === undefined ? {} : { secret: options.secret }),
      logLevel: options.logLevel,
    },
    writerInstance: role === 'writer' ? options.name : options.writerName,
    writerUrl: options.writerHttp,
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    log,
  }).catch(async (error: unknown) => {
    await db.destroy();
    throw error;
  });
  const ready: ReadyLine = {
    role,
    name: started.name,
    url: started.url,
    ...(started.replicationPort === undefined ? {} : { replicationPort: started.replicationPort }),
  };
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(ready)}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${started.name}: ${signal}, stopping`);
    started.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`${started.name}: stop failed`, error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

class UsageError extends Error {}

const options = parseCli(process.argv.slice(2));
try {
  if (options.mode === 'demo') {
    checkTransport({ transport: options.transport, redisUrl: options.redis });
    const ok = await runDemo({
      ...(options.db === undefined ? {} : { db: options.db }),
      transport: options.transport,
      ...(options.redis === undefined ? {} : { redisUrl: options.redis }),
    });
    process.exit(ok ? 0 : 1);
  } else {
    await runRole(options.mode, options);
  }
} catch (error) {
  if (
    error instanceof UsageError ||
    error instanceof DatabaseConfigError ||
    error instanceof MigrationError ||
    error instanceof TransportUnavailableError
  ) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
