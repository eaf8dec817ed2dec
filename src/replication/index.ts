// The replication layer: the wire codec, the writer's server and the worker's
// client (both independent of the transport), and the TCP and Redis transports.
export * from './commands.js';
export * from './codec.js';
export { ProtocolError, PROTOCOL_ERROR_CODES, type ProtocolErrorCode } from './protocol-error.js';
export type { ClientTransport, CommandLink, ServerTransport } from './transport.js';
export { ReplicationServer, memoryStreamEpoch, type ReplicationServerOptions } from './server.js';
export { ReplicationClient, type ReplicationClientOptions } from './client.js';
export { TcpServerTransport, type TcpServerTransportOptions } from './tcp-server-transport.js';
export { TcpClientTransport, type TcpClientTransportOptions } from './tcp-client-transport.js';
export {
  RedisServerTransport,
  type RedisServerTransportOptions,
} from './redis-server-transport.js';
export {
  RedisClientTransport,
  type RedisClientTransportOptions,
} from './redis-client-transport.js';
export {
  RedisChannelLink,
  DEFAULT_REDIS_URL,
  redisChannel,
  type RedisTransportOptions,
} from './redis-link.js';
export {
  LineConnection,
  DEFAULT_MAX_QUEUE,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_TIMEOUT_MS,
  type LineConnectionOptions,
} from './line-connection.js';
export { onStreamReset, resetStream, type StreamResetHandler } from './stream-reset.js';
export { isLoopbackHost, secretChecker } from './auth.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { ClientMetrics, ServerMetrics } from './metrics.js';
export { defaultLogger } from './logger.js';
