// The command line: `main.ts <writer|reader|consumer|demo> [options]`. Every
// option can also come from an environment variable (shown by `--help`).
import { Command, InvalidArgumentError, Option } from 'commander';
import { CHAT_ROLES, type ChatRole } from './process.js';
import type { TransportKind } from './replication.js';

export type Mode = ChatRole | 'demo';

export interface CliOptions {
  readonly mode: Mode;
  readonly db: string | undefined;
  readonly schema: string | undefined;
  readonly name: string;
  readonly replication: { host: string; port: number };
  readonly secret: string | undefined;
  readonly http: { host: string; port: number };
  readonly transport: TransportKind;
  readonly redis: string | undefined;
  readonly writerName: string;
  readonly writerHttp: string;
  readonly serverName: string;
  readonly logLevel: string;
}

const DEFAULT_HTTP_PORT: Record<Mode, number> = {
  writer: 8080,
  reader: 8081,
  consumer: 8082,
  demo: 0,
};
const DEFAULT_NAME: Record<Mode, string> = {
  writer: 'main',
  reader: 'reader1',
  consumer: 'consumer1',
  demo: 'main',
};

/** `host:port`, `:port` or `port` (host 127.0.0.1); port 0 picks a free one. */
export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65_535) {
    throw new InvalidArgumentError(
      `expected host:port (e.g. 127.0.0.1:9300), got ${JSON.stringify(text)}`,
    );
  }
  const host = match[1] ? match[1].replace(/^\[(.*)\]$/, '$1') : '127.0.0.1';
  return { host, port };
}

function parseUrl(text: string): string {
  try {
    return new URL(text).toString().replace(/\/$/, '');
  } catch {
    throw new InvalidArgumentError(
      `expected a URL (e.g. http://127.0.0.1:8080), got ${JSON.stringify(text)}`,
    );
  }
}

export function buildProgram(): Command {
  return new Command()
    .name('npm run example --')
    .description(
      'The storesplit chat server. Roles: writer, reader and consumer, each its own process on ' +
        'Postgres; or demo, which runs a writer, two readers and a consumer with a scripted ' +
        'workload (what `npm start` runs).',
    )
    .argument('<role>', `writer | reader | consumer | demo`, (value: string) => {
      if (value !== 'demo' && !(CHAT_ROLES as readonly string[]).includes(value)) {
        throw new InvalidArgumentError('expected writer, reader, consumer or demo');
      }
      return value as Mode;
    })
    .addOption(
      new Option(
        '--db <url>',
        'database: postgres://… (every role), a PGlite directory, or memory:// (default; writer and demo only). ' +
          'Falls back to DATABASE_URL',
      ).env('CHAT_DB'),
    )
    .addOption(
      new Option('--schema <name>', 'Postgres schema to use (search_path); created if missing').env(
        'CHAT_DB_SCHEMA',
      ),
    )
    .addOption(
      new Option(
        '--name <instance>',
        "this process's instance name (default: main, reader1, consumer1)",
      ).env('CHAT_NAME'),
    )
    .addOption(
      new Option(
        '--replication <host:port>',
        'TCP: where the writer listens for replication, or where a worker connects',
      )
        .env('CHAT_REPLICATION')
        .default('127.0.0.1:9300')
        .argParser(parseHostPort),
    )
    .addOption(
      new Option(
        '--secret <secret>',
        'shared secret for replication (AUTH) and the internal HTTP endpoints',
      ).env('CHAT_SECRET'),
    )
    .addOption(
      new Option(
        '--http <[host:]port>',
        'where the API listens (default: 8080 writer, 8081 reader, 8082 consumer)',
      )
        .env('CHAT_HTTP')
        .argParser(parseHostPort),
    )
    .addOption(
      new Option(
        '--transport <kind>',
        'replication transport: TCP (the writer listens) or Redis pub/sub',
      )
        .choices(['tcp', 'redis'])
        .default('tcp')
        .env('CHAT_TRANSPORT'),
    )
    .addOption(
      new Option(
        '--redis <url>',
        'Redis URL for --transport redis (falls back to REDIS_URL, then redis://127.0.0.1:6379)',
      ).env('CHAT_REDIS'),
    )
    .addOption(
      new Option('--writer-name <instance>', "workers: the writer's instance name")
        .default('main')
        .env('CHAT_WRITER_NAME'),
    )
    .addOption(
      new Option('--writer-http <url>', "workers: the writer's API URL, where writes are forwarded")
        .default('http://127.0.0.1:8080')
        .env('CHAT_WRITER_HTTP')
        .argParser(parseUrl),
    )
    .addOption(
      new Option('--server-name <name>', "the deployment's name (replication SERVER line)")
        .default('chat.example')
        .env('CHAT_SERVER_NAME'),
    )
    .addOption(
      new Option('--log-level <level>', 'log level of the replication layer (pino)')
        .default('info')
        .env('CHAT_LOG_LEVEL'),
    )
    .showHelpAfterError('(--help lists the options)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  npm start                                     # the demo on embedded PGlite\n' +
        '  DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm start   # the demo, one process per role\n' +
        '  npm run example -- writer --db postgres://postgres@127.0.0.1:5432/test\n' +
        '  npm run example -- reader --db postgres://postgres@127.0.0.1:5432/test --name reader1 --http 8081\n',
    );
}

/** Parses argv (without `node` and the script) into options; commander exits on `--help` and errors. */
export function parseCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): CliOptions {
  const program = buildProgram();
  program.parse([...argv], { from: 'user' });
  const mode = program.processedArgs[0] as Mode;
  const o = program.opts<{
    db?: string;
    schema?: string;
    name?: string;
    replication: { host: string; port: number };
    secret?: string;
    http?: { host: string; port: number };
    transport: TransportKind;
    redis?: string;
    writerName: string;
    writerHttp: string;
    serverName: string;
    logLevel: string;
  }>();
  return {
    mode,
    db: o.db ?? env.DATABASE_URL,
    schema: o.schema,
    name: o.name ?? DEFAULT_NAME[mode],
    replication: o.replication,
    secret: o.secret,
    http: o.http ?? { host: '127.0.0.1', port: DEFAULT_HTTP_PORT[mode] },
    transport: o.transport,
    redis: o.redis ?? env.REDIS_URL,
    writerName: o.writerName,
    writerHttp: o.writerHttp,
    serverName: o.serverName,
    logLevel: o.logLevel,
  };
}
