// Stream ID generators: increasing IDs for a stream's rows, and the stream's
// current token, which never passes an ID whose write may still commit.
export {
  createStreamIdGenerator,
  type AllocationOptions,
  type StreamIdGenerator,
  type StreamIdGeneratorOptions,
} from './generator.js';
export { sequenceName, toStreamId } from './persistence.js';
export { WriterAlreadyRunningError, WriterLockLostError } from './writer-lock.js';
export {
  PositionTracker,
  PositionTrackerError,
  type FetchTicket,
  type PositionTrackerInit,
} from './tracker.js';
