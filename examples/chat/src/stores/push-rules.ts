// Push rules: which messages notify a user. They have no stream of their
// own: a write records its invalidation in the runtime's `caches` stream in
// the same transaction, which every worker follows (DESIGN.md, "the caches
// stream").
import { cached, type StoreBase } from '../../../../src/index.js';
import type { ChatDB } from '../db.js';
import { jsonText } from './common.js';

export type PushAction = 'notify' | 'dont_notify' | 'highlight';

export interface PushRule {
  readonly ruleId: string;
  /** Lower runs first. */
  readonly priority: number;
  /** A case-insensitive substring of the message body; null matches every message. */
  readonly pattern: string | null;
  readonly actions: readonly PushAction[];
  readonly enabled: boolean;
}

export function PushRulesWorkerStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class PushRulesWorkerStore extends Base {
    /** The user's rules in evaluation order. */
    @cached()
    async getPushRules(userId: string): Promise<PushRule[]> {
      const rows = await this.dbConn
        .selectFrom('push_rules')
        .select(['rule_id', 'priority', 'pattern', 'actions', 'enabled'])
        .where('user_id', '=', userId)
        .orderBy('priority')
        .orderBy('rule_id')
        .execute();
      return rows.map((r) => ({
        ruleId: r.rule_id,
        priority: r.priority,
        pattern: r.pattern,
        actions: (typeof r.actions === 'string'
          ? JSON.parse(r.actions)
          : r.actions) as PushAction[],
        enabled: r.enabled,
      }));
    }
  }
  return PushRulesWorkerStore;
}

export function PushRulesStore<B extends StoreBase<ChatDB>>(Base: B) {
  abstract class PushRulesStore extends PushRulesWorkerStore(Base) {
    /** Replaces every push rule of the user. */
    async setPushRules(userId: string, rules: readonly PushRule[]): Promise<void> {
      await this.dbConn.runInteraction('setPushRules', async (txn) => {
        await txn.deleteFrom('push_rules').where('user_id', '=', userId).execute();
        for (const rule of rules) {
          await txn
            .insertInto('push_rules')
            .values({
              user_id: userId,
              rule_id: rule.ruleId,
              priority: rule.priority,
              pattern: rule.pattern,
              actions: jsonText(rule.actions),
              enabled: rule.enabled,
            })
            .execute();
        }
        await this.invalidateCacheAndStream(txn, this.getPushRules, userId);
      });
    }
  }
  return PushRulesStore;
}

/** What a message does for a recipient under their rules: the first enabled matching rule decides. */
export function evaluatePushRules(rules: readonly PushRule[], body: string): PushAction[] {
  const text = body.toLowerCase();
  for (const rule of rules) {
    if (!rule.enabled) continue;
    if (rule.pattern !== null && !text.includes(rule.pattern.toLowerCase())) continue;
    return [...rule.actions];
  }
  return ['notify'];
}
