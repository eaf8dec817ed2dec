// A reader process: the `ReaderDataStore` composition, serving the API from
// its caches and forwarding writes to the writer.
import { openStore } from '../../../../src/index.js';
import { ReaderDataStore } from '../stores/compositions.js';
import { serverContext, type ChatProcess, type ChatProcessOptions } from './common.js';
import { startWorkerProcess } from './worker.js';

export async function startReader(options: ChatProcessOptions): Promise<ChatProcess> {
  const store = await openStore(ReaderDataStore, options.db, serverContext(options));
  return startWorkerProcess(options, store, () => ({}));
}
