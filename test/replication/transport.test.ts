// The protocol classes run over any transport: here, an in-process one made
// of two linked `CommandLink`s, with no sockets, no framing and no AUTH (as a
// pub/sub transport would be). The writer and worker code is the same as over
// TCP; only the transport object differs.
import { afterEach, expect, it } from 'vitest';
import { parseCommand } from '../../src/replication/codec.js';
import type { Command } from '../../src/replication/commands.js';
import { ReplicationClient } from '../../src/replication/client.js';
import { ReplicationServer } from '../../src/replication/server.js';
import type {
  ClientTransport,
  CommandLink,
  ServerTransport,
} from '../../src/replication/transport.js';
import { createAppTables, type AppDB } from '../support/receipts-app.js';
import {
  cacheMismatches,
  openReader,
  openWriter,
  waitForWriter,
  writeReceipts,
  writerTokens,
} from './helpers.js';
import { describeOnOneDatabase } from './one-database.js';

class MemoryLink implements CommandLink {
  label = 'memory';
  peer!: MemoryLink;
  closed = false;
  readonly closedReason: Promise<string>;
  readonly queueDepth = 0;
  readonly sent: Command[] = [];
  #resolve!: (reason: string) => void;
  #handler: ((command: Command) => void) | undefined;
  #pending: Command[] = [];

  constructor() {
    this.closedReason = new Promise((resolve) => (this.#resolve = resolve));
  }

  send(command: Command | string): void {
    if (this.closed) return;
    // The server hands over lines it serialised once for every link.
    const parsed = typeof command === 'string' ? parseCommand(command) : command;
    this.sent.push(parsed);
    queueMicrotask(() => this.peer.#receive(parsed));
  }

  sendAnswer(lines: readonly string[]): void {
    for (const line of lines) this.send(line);
  }

  setHandler(handler: ((command: Command) => void) | undefined): void {
    this.#handler = handler;
    while (handler && this.#pending.length) handler(this.#pending.shift()!);
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.#resolve(reason);
    this.peer.close(`peer closed: ${reason}`);
  }

  #receive(command: Command): void {
    if (this.closed) return;
    if (this.#handler) this.#handler(command);
    else this.#pending.push(command);
  }
}

function memoryTransport(): {
  server: ServerTransport;
  client: ClientTransport;
  links: MemoryLink[];
} {
  let accept: ((link: CommandLink) => void) | undefined;
  const links: MemoryLink[] = [];
  return {
    links,
    server: {
      listen: (onLink) => {
        accept = onLink;
        return Promise.resolve();
      },
      close: () => {
        for (const link of links) link.close('server-stopping');
        return Promise.resolve();
      },
      describe: () => 'memory',
    },
    client: {
      // One link to one writer, as over TCP.
      hearsEveryWriter: false,
      connect: () => {
        if (!accept) return Promise.reject(new Error('not listening'));
        const [a, b] = [new MemoryLink(), new MemoryLink()];
        a.peer = b;
        b.peer = a;
        links.push(b);
        accept(b);
        return Promise.resolve(a);
      },
      describe: () => 'memory',
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describeOnOneDatabase('replication over another transport', (backend) => {
  it('runs the same writer and worker code over an in-process transport', async () => {
    const db = await backend.open<AppDB>();
    await createAppTables(db);
    const writer = await openWriter(db);
    const transport = memoryTransport();
    const server = new ReplicationServer(writer, { transport: transport.server });
    await server.start();
    cleanups.push(() => server.stop());
    await writeReceipts(writer, 5, ['!a', '!b']);
    const reader = await openReader(db);
    await reader.getReceiptsForRoom('!a');
    const client = new ReplicationClient(reader, {
      transport: transport.client,
      reconnect: { initialDelayMs: 10 },
    });
    client.start();
    cleanups.push(() => client.stop());
    await client.ready;
    await writeReceipts(writer, 5, ['!a', '!b'], 'live');
    await writer.addTag('@u1', '!a', 'm.fav');
    await waitForWriter(client, writerTokens(writer));
    expect(
      await cacheMismatches(reader, db, { rooms: ['!a', '!b'], tagged: [['@u1', '!a']] }),
    ).toEqual([]);
    // Live rows went as commands; a closed link is replaced by a new one and REPLICATE.
    expect(transport.links[0]!.sent.filter((c) => c.type === 'RDATA')).toHaveLength(6);
    transport.links[0]!.close('cut');
    await writer.insertReceipt('!b', '@late', '$late');
    await waitForWriter(client, writerTokens(writer));
    expect(transport.links).toHaveLength(2);
    expect(
      await cacheMismatches(reader, db, { rooms: ['!a', '!b'], tagged: [['@u1', '!a']] }),
    ).toEqual([]);
  });
});
