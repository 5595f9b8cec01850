import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { createConversationGateway } from '../api/conversation-gateway';
import { PolicyVersionCache } from '../api/policy-version-cache';
import type { FanOutDeps } from '../api/whatsapp-webhook';
import { UnreadableWebhookBody, fanOutWhatsAppBody } from '../api/whatsapp-webhook';
import { collections } from '../store/collections';
import { markInboundBodyDone, markInboundBodyFailed, purgeDoneBodies } from '../store/inbound-bodies';
import { newestAccountPolicy } from '../store/policy-versions';
import type { WebhookBodyOutcome } from '../workflows/webhook-inbox/messages';
import type { TemporalCall } from './router-client';

export interface WebhookInboxActivities {
  /**
   * Fans a kept WhatsApp webhook body out to its conversations (api/whatsapp-webhook.ts
   * `fanOutWhatsAppBody`), then marks it `done`. Heartbeats how many of its conversations (in body
   * order) are finished: a retry resumes after them. A body already done (Meta redelivered it after its
   * fan-out) or not found is skipped.
   */
  fanOutWebhookBody(input: { bodyId: string }): Promise<WebhookBodyOutcome>;
  /** The fan-out gave up after its retries: the body is marked `failed` with the reason. */
  markWebhookBodyFailed(input: { bodyId: string; reason: string }): Promise<void>;
}

/** Heartbeat details: the conversations of the body finished, counted from its first in body order. */
interface Progress {
  groupsDone: number;
}

/** A Temporal call from the fan-out: bounded, so a stuck cluster fails the attempt (retried) instead of hanging it. */
const callTimeoutMs = 30_000;

/**
 * The fan-out talks to conversations exactly as the API did before the answer: the same gateway (so
 * inputs are stamped with the account's policy version) and the same media start.
 */
export function createWebhookInboxActivities({ db, client, taskQueue, log }: { db: Db; client: Client; taskQueue: string; log: Logger }): WebhookInboxActivities {
  const c = collections(db);
  const call: TemporalCall = (_operation, fn) => client.connection.withDeadline(Date.now() + callTimeoutMs, fn);
  const policyVersions = new PolicyVersionCache(async (accountId) => (await newestAccountPolicy(c.accounts, c.policyVersions, accountId))?.version, log);
  const deps: FanOutDeps = {
    collections: c,
    temporal: client,
    taskQueue,
    temporalCall: call,
    conversations: createConversationGateway({ temporal: client, taskQueue, call, policyVersionOf: (accountId) => policyVersions.versionOf(accountId) }),
  };
  return {
    async fanOutWebhookBody({ bodyId }) {
      const ctx = Context.current();
      const body = await c.inboundBodies.findOne({ _id: bodyId });
      if (!body || body.state === 'done') {
        if (!body) log.warn({ bodyId }, 'webhook body to fan out not found; skipped');
        return { state: 'skipped', messages: 0, receipts: 0, unmatchedReceipts: 0 };
      }
      const resumed = ctx.info.heartbeatDetails as Progress | undefined;
      const progress: Progress = { groupsDone: resumed?.groupsDone ?? 0 };
      // Also on a timer: one slow conversation (a Temporal call near its deadline) must not look like a
      // dead worker, which would start a second attempt beside this one.
      const beat = setInterval(() => ctx.heartbeat(progress), 5_000);
      try {
        const outcome = await fanOutWhatsAppBody(deps, body, progress.groupsDone, (groupsDone) => {
          progress.groupsDone = groupsDone;
          ctx.heartbeat(progress);
        });
        const bodies = { bodies: c.inboundBodies, days: c.inboundBodyDays };
        await markInboundBodyDone(bodies, bodyId, outcome);
        // The account's bodies done more than a week ago, a few per body (store/inbound-bodies.ts). Never
        // fails the fan-out: what is left is purged after a later body.
        await purgeDoneBodies(bodies, body.accountId, new Date()).catch((error: unknown) => log.warn({ err: error, accountId: body.accountId }, 'old webhook bodies not purged; retried after the next body'));
        return { state: 'done', ...outcome };
      } catch (error) {
        if (error instanceof UnreadableWebhookBody) throw ApplicationFailure.nonRetryable(error.message, 'webhook_body_unreadable');
        throw error;
      } finally {
        clearInterval(beat);
      }
    },
    async markWebhookBodyFailed({ bodyId, reason }) {
      log.error({ bodyId, reason }, 'webhook body not fanned out after its retries; marked failed (replay: README, "WhatsApp webhook bodies")');
      await markInboundBodyFailed(c.inboundBodies, bodyId, reason);
    },
  };
}
