// The consumer worker's job, like Synapse's push sender: follow the events
// stream in order and work out who a message notifies (room members other
// than the sender, under their push rules, read from this worker's caches).
// Its progress is its own: after each batch it persists the position it
// reached in `consumer_stream_positions`, and on start it resumes from there,
// reading the events it missed from the database. It waits for the events
// stream's position to move (the notifier), never polls, and tells the writer
// how far it got (`FEDERATION_ACK`).
import type { ConsumerDataStore } from './stores/compositions.js';
import type { ChatEvent } from './stores/events.js';
import { evaluatePushRules } from './stores/push-rules.js';

export interface PushConsumerOptions {
  /** The consumer's name in its position table (its instance name). */
  readonly name: string;
  /** The events stream's writer instance. */
  readonly writer: string;
  /** Events read per batch; default 100. */
  readonly batchSize?: number;
  /** Called after each persisted batch. */
  readonly onProcessed?: (token: number) => void;
  readonly log?: (message: string, error?: unknown) => void;
}

export class PushConsumer {
  /** The position persisted last (events at or below it are done). */
  position = 0;
  /** Events handled by this run of the consumer. */
  processedEvents = 0;
  /** Notifications worked out by this run, by recipient. */
  readonly notifications = new Map<string, number>();
  readonly #options: PushConsumerOptions;
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(
    readonly store: ConsumerDataStore,
    options: PushConsumerOptions,
  ) {
    this.#options = options;
  }

  /** Loads the persisted position and starts following the stream. */
  async start(): Promise<void> {
    this.position = await this.store.getConsumerPosition(
      this.#options.name,
      'events',
      this.#options.writer,
    );
    this.#running = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.store.notifier.notify();
    await this.#running;
  }

  /** Total notifications worked out by this run. */
  get notificationCount(): number {
    let n = 0;
    for (const count of this.notifications.values()) n += count;
    return n;
  }

  #target(): number {
    return this.store.streamToken('events', this.#options.writer);
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const target = this.#target();
      if (target <= this.position) {
        await this.store.notifier.wait(
          () => this.#stopped || this.#target() > this.position,
          60_000,
        );
        continue;
      }
      try {
        await this.#batch(target);
      } catch (error) {
        this.#options.log?.('push consumer: a batch failed; retrying', error);
        await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
      }
    }
  }

  async #batch(target: number): Promise<void> {
    const limit = this.#options.batchSize ?? 100;
    const events = await this.store.getEventsBetween(this.position, target, limit);
    for (const event of events) await this.#process(event);
    const upTo = events.length === limit ? events[events.length - 1]!.streamOrdering : target;
    await this.store.setConsumerPosition(this.#options.name, 'events', this.#options.writer, upTo);
    this.position = upTo;
    this.processedEvents += events.length;
    this.#options.onProcessed?.(upTo);
  }

  async #process(event: ChatEvent): Promise<void> {
    if (event.stateKey !== null || event.type !== 'm.room.message') return;
    const body = typeof event.content.body === 'string' ? event.content.body : '';
    for (const userId of await this.store.getUsersInRoom(event.roomId)) {
      if (userId === event.sender) continue;
      const actions = evaluatePushRules(await this.store.getPushRules(userId), body);
      if (actions.includes('notify')) {
        this.notifications.set(userId, (this.notifications.get(userId) ?? 0) + 1);
      }
    }
  }
}
