// Checks that the Postgres and Redis named by DATABASE_URL and REDIS_URL
// answer, so CI fails with a clear line instead of skipping their suites.
import net from 'node:net';
import pg from 'pg';

async function checkPostgres(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  await client.query('SELECT 1');
  await client.end();
}

function checkRedis(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    const timer = setTimeout(() => socket.destroy(new Error('no answer within 5 s')), 5000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.end();
      if (data.toString().startsWith('+PONG')) resolve();
      else reject(new Error(`unexpected answer ${JSON.stringify(data.toString().trim())}`));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

let failed = false;
for (const [name, variable, check] of [
  ['Postgres', 'DATABASE_URL', checkPostgres],
  ['Redis', 'REDIS_URL', checkRedis],
]) {
  const url = process.env[variable];
  if (!url) {
    console.error(`${variable} is not set`);
    failed = true;
    continue;
  }
  try {
    await check(url);
    console.log(`${name} reachable at ${url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@')}`);
  } catch (error) {
    console.error(`${name} unreachable at ${url}: ${error.message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
