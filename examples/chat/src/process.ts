// Starts a chat process of any role in this Node process (the CLI and the
// demo use it; so do the tests).
import type { ChatProcess, ChatProcessOptions } from './roles/common.js';
import { startConsumer } from './roles/consumer.js';
import { startReader } from './roles/reader.js';
import { startWriter } from './roles/writer.js';

export type { ChatProcess, ChatProcessOptions, ChatRole, Log } from './roles/common.js';
export { CHAT_ROLES } from './roles/common.js';

export function startChatProcess(options: ChatProcessOptions): Promise<ChatProcess> {
  switch (options.role) {
    case 'writer':
      return startWriter(options);
    case 'reader':
      return startReader(options);
    case 'consumer':
      return startConsumer(options);
  }
}
