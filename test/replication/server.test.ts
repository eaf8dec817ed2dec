// The writer's side, spoken to by hand over a real socket: the start of a
// session, AUTH, REPLICATE, live RDATA (with batches) and POSITIONs, the
// in-memory replay, keep-alive, the commands a worker sends, and bad input.
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStreamEpoch } from '../../src/replication/server.js';
import { TcpServerTransport } from '../../src/replication/tcp-server-transport.js';
import type { FederationAckCommand, UserSyncCommand } from '../../src/replication/commands.js';
import type { Backend } from '../support/databases.js';
import { describeOnOneDatabase } from './one-database.js';
import { createAppTables, type AppDB } from '../support/receipts-app.js';
import { openWriter, RawClient, SERVER_NAME, startServer } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A writer on a new database of `backend`, closed before that database goes, with a server. */
async function writerWithServer(
  backend: Backend,
  ...args: Parameters<typeof startServer> extends [unknown, ...infer R] ? R : never
) {
  const db = await backend.open<AppDB>();
  await createAppTables(db);
  const writer = backend.track(await openWriter(db));
  const started = await startServer(writer, ...args);
  cleanups.push(() => started.server.stop());
  return { writer, ...started };
}

async function raw(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  cleanups.push(() => client.close());
  return client;
}

describeOnOneDatabase('replication server', (backend) => {
  it('says SERVER first, answers REPLICATE with a POSITION per stream, then sends new rows as RDATA', async () => {
    const { writer, port } = await writerWithServer(backend);
    await writer.insertReceipt('!r1', '@a', '$1');
    const c = await raw(port);
    await c.waitFor((l) => l.startsWith('SERVER'));
    expect(c.lines[0]).toBe(`SERVER ${SERVER_NAME}`);
    c.send('NAME reader-x', 'REPLICATE');
    await c.waitFor((l) => l.startsWith('POSITION typing'));
    expect(c.commands().slice(1)).toEqual([
      'POSITION caches main 0 0',
      'POSITION receipts main 1 1',
      // An in-memory stream's POSITIONs carry the epoch of the writer's token sequence.
      `POSITION typing main 0 0 ${memoryStreamEpoch(writer.typingSource)}`,
    ]);
    const token = await writer.insertReceipt('!r1', '@b', '$2');
    await c.waitFor((l) => l.startsWith('RDATA receipts'));
    expect(c.commands().at(-1)).toBe(`RDATA receipts main ${token} {"roomId":"!r1","userId":"@b"}`);
  });

  it('sends the rows of one token as a batch, and a POSITION when a token carried no rows', async () => {
    const { writer, port } = await writerWithServer(backend);
    const c = await raw(port);
    c.send('REPLICATE');
    await c.waitFor((l) => l.startsWith('POSITION typing'));
    const token = await writer.receiptsIdGen.withNextId(async (id) => {
      await writer.dbConn
        .insertInto('receipts')
        .values(
          ['!a', '!b', '!c'].map((room) => ({
            stream_id: id,
            instance_name: 'main',
            room_id: room,
            user_id: '@u',
            event_id: '$e',
          })),
        )
        .execute();
      return id;
    });
    await expect(
      writer.receiptsIdGen.withNextId(() => Promise.reject(new Error('rolled back'))),
    ).rejects.toThrow('rolled back');
    await c.waitFor((l) => l.startsWith(`POSITION receipts main ${token} `));
    const sent = c.commands().filter((l) => l.includes(' receipts '));
    expect(sent).toEqual([
      'POSITION receipts main 0 0',
      'RDATA receipts main batch {"roomId":"!a","userId":"@u"}',
      'RDATA receipts main batch {"roomId":"!b","userId":"@u"}',
      `RDATA receipts main ${token} {"roomId":"!c","userId":"@u"}`,
      `POSITION receipts main ${token} ${token + 1}`,
    ]);
  });

  it('replays the in-memory stream it still holds on REPLICATE, after POSITION <forgotten> <forgotten>', async () => {
    const { writer, port } = await writerWithServer(backend);
    for (let i = 1; i <= 105; i++) writer.setTyping(`!room${i}`, ['@a']); // history keeps 100 tokens
    const c = await raw(port);
    c.send('REPLICATE');
    await c.waitFor((l) => l.startsWith('RDATA typing main 105 '));
    const typing = c.commands().filter((l) => l.includes(' typing '));
    expect(typing[0]).toBe(`POSITION typing main 5 5 ${memoryStreamEpoch(writer.typingSource)}`);
    expect(typing[1]).toBe('RDATA typing main 6 {"roomId":"!room6","userIds":["@a"]}');
    expect(typing).toHaveLength(101);
    writer.setTyping('!room1', []);
    await c.waitFor((l) => l.startsWith('RDATA typing main 106 '));
  });

  it('hands USER_SYNC and FEDERATION_ACK to their handlers, naming the client', async () => {
    const syncs: Array<[UserSyncCommand, string]> = [];
    const acks: Array<[FederationAckCommand, string]> = [];
    const { port } = await writerWithServer(
      backend,
      {},
      {
        onUserSync: (cmd, from) => syncs.push([cmd, from]),
        onFederationAck: (cmd, from) => acks.push([cmd, from]),
      },
    );
    const c = await raw(port);
    c.send(
      'NAME fed-1',
      'USER_SYNC reader-1 @alice:x start 1000',
      'FEDERATION_ACK fed-1 42',
      'REPLICATE',
    );
    await c.waitFor((l) => l.startsWith('POSITION typing'));
    expect(syncs).toEqual([
      [
        { type: 'USER_SYNC', instance: 'reader-1', userId: '@alice:x', state: 'start', ms: 1000 },
        'fed-1',
      ],
    ]);
    expect(acks).toEqual([[{ type: 'FEDERATION_ACK', instance: 'fed-1', token: 42 }, 'fed-1']]);
  });

  it('with a secret: AUTH first or ERROR and close; a wrong secret gets ERROR and close; the right one is served', async () => {
    const { port } = await writerWithServer(backend, {
      secret: 's3cret-token',
    });
    const missing = await raw(port);
    missing.send('REPLICATE');
    await missing.closed;
    expect(missing.lines).toEqual([
      `SERVER ${SERVER_NAME}`,
      'ERROR auth-required: the first command must be AUTH',
    ]);
    const ping = await raw(port);
    ping.send('PING 1');
    await ping.closed;
    expect(ping.lines.at(-1)).toBe('ERROR auth-required: the first command must be AUTH');
    const wrong = await raw(port);
    wrong.send('AUTH s3cret-tokeN', 'REPLICATE');
    await wrong.closed;
    expect(wrong.lines).toEqual([`SERVER ${SERVER_NAME}`, 'ERROR auth-failed: wrong secret']);
    expect(wrong.lines.join('\n')).not.toContain('s3cret');
    const right = await raw(port);
    right.send('AUTH s3cret-token', 'REPLICATE');
    await right.waitFor((l) => l.startsWith('POSITION typing'));
    right.send('AUTH s3cret-token');
    await right.closed;
    expect(right.lines.at(-1)).toBe(
      'ERROR unexpected-auth: AUTH is only accepted as the first command',
    );
  });

  it('without a secret: a leading AUTH is ignored, a later one is an error', async () => {
    const { port } = await writerWithServer(backend);
    const c = await raw(port);
    c.send('AUTH whatever', 'REPLICATE');
    await c.waitFor((l) => l.startsWith('POSITION typing'));
    c.send('AUTH again');
    await c.closed;
    expect(c.lines.at(-1)).toMatch(/^ERROR unexpected-auth/);
  });

  it('answers a garbage line and an over-long line with ERROR and closes only that connection', async () => {
    const { writer, port } = await writerWithServer(backend, {
      limits: { maxLineBytes: 1024 },
    });
    const good = await raw(port);
    good.send('REPLICATE');
    await good.waitFor((l) => l.startsWith('POSITION typing'));
    const garbage = await raw(port);
    garbage.send('FROB 1');
    const long = await raw(port);
    long.socket.write('PING '.padEnd(5000, '1'));
    const wrongSide = await raw(port);
    wrongSide.send('RDATA receipts main 1 {}');
    await Promise.all([garbage.closed, long.closed, wrongSide.closed]);
    expect(garbage.lines.at(-1)).toBe('ERROR unknown-command: unknown command "FROB"');
    expect(long.lines.at(-1)).toBe('ERROR line-too-long: line longer than 1024 bytes');
    expect(wrongSide.lines.at(-1)).toBe('ERROR wrong-side: RDATA may not be sent by the client');
    const token = await writer.insertReceipt('!r', '@a', '$1');
    await good.waitFor((l) => l.startsWith(`RDATA receipts main ${token} `));
  });

  it('pings an idle client and drops one that pinged and then went silent', async () => {
    const { port } = await writerWithServer(backend, {
      pingIntervalMs: 50,
      pingTimeoutMs: 300,
    });
    const c = await raw(port);
    c.send('PING 1', 'REPLICATE');
    await c.closed;
    expect(c.lines.filter((l) => l.startsWith('PING ')).length).toBeGreaterThanOrEqual(2);
    expect(c.lines.at(-1)).toBe('ERROR ping-timeout: nothing received for 300 ms');
  });

  it('a second stop() resolves only once the first has closed every link', async () => {
    const { server, port } = await writerWithServer(backend);
    const c = await raw(port);
    c.send('REPLICATE');
    await c.waitFor((l) => l.startsWith('POSITION'));
    let firstDone = false;
    const first = server.stop().then(() => (firstDone = true));
    await server.stop();
    expect(firstDone).toBe(true);
    await first;
    await c.closed;
  });

  it('drops a client that trickles bytes of a line it never ends: only whole lines count', async () => {
    const { port } = await writerWithServer(backend, {
      pingIntervalMs: 50,
      pingTimeoutMs: 300,
    });
    const c = await raw(port);
    c.send('PING 1', 'REPLICATE');
    const trickle = setInterval(() => c.socket.write('N'), 50);
    try {
      await c.closed;
    } finally {
      clearInterval(trickle);
    }
    expect(c.lines.at(-1)).toBe('ERROR ping-timeout: nothing received for 300 ms');
  });
});

describe('replication server configuration', () => {
  it('refuses to listen beyond loopback without a secret, and accepts loopback names', () => {
    expect(() => new TcpServerTransport({ serverName: 's', host: '0.0.0.0' })).toThrow(
      /without a secret/,
    );
    expect(() => new TcpServerTransport({ serverName: 's', host: '::' })).toThrow(
      /without a secret/,
    );
    expect(() => new TcpServerTransport({ serverName: 's', host: '192.168.1.5' })).toThrow(
      /without a secret/,
    );
    expect(
      () => new TcpServerTransport({ serverName: 's', host: '0.0.0.0', secret: 'k' }),
    ).not.toThrow();
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) {
      expect(() => new TcpServerTransport({ serverName: 's', host })).not.toThrow();
    }
    expect(() => new TcpServerTransport({ serverName: 's', secret: 'has space' })).toThrow(
      /visible ASCII/,
    );
  });
});
