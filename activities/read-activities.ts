import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { markReadWhatsApp } from '../channels/whatsapp/graph';
import { channelForSending } from '../store/channels';
import { collections } from '../store/collections';
import type { SecretBox } from '../store/secret-box';
import type { ProviderReadInput } from '../workflows/provider-read/ids';

/**
 * What a read or typing request came to. `skipped`: the channel has no such thing (webhook and recording
 * channels: their providers are told nothing); `dropped`: the provider refused it, or retries ran out.
 */
export type ReadOutcome = { outcome: 'done' } | { outcome: 'skipped'; provider: string } | { outcome: 'dropped'; code: number | string };

export interface ReadActivities {
  /**
   * Marks the customer's message read at the channel's provider, with the typing indicator when asked.
   * A transient failure throws (retried a few times by the workflow's options); a refusal is `dropped`
   * and logged with its code, never the provider's words nor the token.
   */
  markReadAtProvider(input: ProviderReadInput): Promise<ReadOutcome>;
}

export interface ReadActivityDeps {
  db: Db;
  log: Logger;
  /** Base URL of the Graph API (`WHATSAPP_GRAPH_URL`). */
  graphUrl: string;
  secrets?: SecretBox;
  timeoutMs?: number;
}

export function createReadActivities({ db, log, graphUrl, secrets, timeoutMs = 10_000 }: ReadActivityDeps): ReadActivities {
  const c = collections(db, { secrets });
  return {
    async markReadAtProvider(input) {
      const config = await channelForSending(c, input.accountId, input.channel);
      if (config?.provider !== 'whatsapp_cloud') return { outcome: 'skipped', provider: config?.provider ?? 'recording' };
      const result = await markReadWhatsApp(config, { providerMessageId: input.providerMessageId, typing: input.typing }, { graphUrl, timeoutMs });
      const where = { conversationId: input.conversationId, typing: input.typing };
      switch (result.outcome) {
        case 'done':
          return result;
        case 'failed':
          log.warn({ ...where, code: result.error.code }, 'the provider refused to mark the message read');
          return { outcome: 'dropped', code: result.error.code };
        case 'retry':
          log.info({ ...where, code: result.error.code }, 'marking read failed for now; retrying');
          throw ApplicationFailure.create({ type: 'read_retry', message: `${result.error.code}: ${result.error.message}`, nextRetryDelay: result.retryAfterMs });
      }
    },
  };
}
