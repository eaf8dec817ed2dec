// A worker whose Redis accepts the connection and then says nothing (a hung
// server, a proxy that lost its backend): connecting would wait for Redis's
// reply up to the transport's timeout. stop() must not wait for it, and must
// not leave the connections open. Needs no Redis: the silent server is ours.
import { createServer, type Socket } from 'node:net';
import { expect, it } from 'vitest';
import { ReplicationClient } from '../../src/replication/client.js';
import { RedisClientTransport } from '../../src/replication/redis-client-transport.js';
import { describeEachDatabase } from '../support/databases.js';
import { createAppTables, type AppDB } from '../support/receipts-app.js';
import { openReader } from './helpers.js';

describeEachDatabase('a Redis worker whose server never answers', (backend) => {
  it('stops while connecting, and closes the connections it opened', async () => {
    const accepted: Socket[] = [];
    const closed: Promise<void>[] = [];
    let connected = () => {};
    const firstConnection = new Promise<void>((done) => (connected = done));
    const silent = createServer((socket) => {
      accepted.push(socket);
      closed.push(new Promise((done) => socket.on('close', () => done())));
      connected();
    });
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const port = (silent.address() as { port: number }).port;
    try {
      const db = await backend.open<AppDB>();
      await createAppTables(db);
      const reader = backend.track(await openReader(db));
      const client = new ReplicationClient(reader, {
        transport: new RedisClientTransport({
          url: `redis://127.0.0.1:${port}`,
          serverName: 'hang',
          instanceName: 'reader1',
          // Far beyond the test's own timeout: only stop() can end the wait.
          pingTimeoutMs: 600_000,
        }),
      });
      client.start();
      await firstConnection;
      await client.stop();
      // Every connection the worker opened is closed from its side.
      await Promise.all(closed);
      expect(accepted.length).toBeGreaterThan(0);
      expect(accepted.every((s) => s.destroyed || s.readableEnded)).toBe(true);
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise<void>((done) => silent.close(() => done()));
    }
  });
});
