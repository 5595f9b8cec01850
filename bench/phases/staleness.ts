import { conversationPath, customerId, conversationId } from '../accounts';
import type { BenchContext } from '../context';
import { mapLimit, openLoop, sleep, summarize } from '../load';
import type { LatencySummary } from '../load';
import type { IngestState } from './ingest';
import { channel, messageBody, round } from './ingest';

/**
 * 3. View staleness: from the 202 of a customer message to the moment the API serves both the updated
 * conversation view and the message in its timeline, while a background ingest load runs at a quarter
 * of the rate the ingest phase sustained (persisted/s: the 202 rate is higher than the stack can keep
 * up with, and a background at a quarter of it overloaded the full run). The view is polled every few
 * milliseconds; once it shows the message, the timeline is read once to confirm it. The persist activity writes the timeline before the view,
 * so the sample is the moment the view answered; a timeline that does not have the message yet (never
 * seen) is polled on, and then the sample is the moment the timeline answered. Two lanes poll: more
 * would make the polling itself a large part of the load on two cores.
 */
export interface StalenessResult {
  samples: number;
  backgroundRate: number;
  pollIntervalMs: number;
  stalenessMs: LatencySummary;
  timedOut: number;
  /** Samples whose view showed the message before their timeline did (the persist order says never). */
  timelineBehindView: number;
}

const pollIntervalMs = 5;

export async function runStaleness(ctx: BenchContext, ingest: IngestState, sustainedRate: number): Promise<StalenessResult> {
  const { api, sizes } = ctx;
  const { account, ledger } = ingest;
  const lanes = 2;
  const perLane = Math.ceil(sizes.stalenessSamples / lanes);
  // One conversation per sampling lane, so a version change in its view can only be this lane's message.
  const laneIds = Array.from({ length: lanes }, (_, l) => customerId(3, l));
  const base = Math.max(1, ingest.conversationIds.filter((id) => ledger.accepted.has(id)).length);
  const backgroundRate = Math.max(1, sustainedRate * 0.25);

  ctx.log(`staleness: ${perLane * lanes} samples in ${lanes} lanes, polling every ${pollIntervalMs} ms, background ingest ${backgroundRate.toFixed(0)}/s`);
  let stopBackground = false;
  const background = openLoop({
    rate: backgroundRate,
    durationMs: 120_000,
    stop: () => stopBackground,
    task: async (i) => {
      const customer = customerId(1, i % base);
      const messageId = `stale-bg-${i}`;
      ledger.attempt(messageId);
      const res = await api.http.post(`/v1/accounts/${account.id}/messages`, messageBody(customer, messageId), account.serviceKey);
      if (res.status !== 202) return `HTTP ${res.status}`;
      ledger.accept(conversationId(account.id, channel, customer), messageId);
      return true;
    },
  });

  const samples: number[] = [];
  let timedOut = 0;
  let timelineBehindView = 0;
  await mapLimit(laneIds, lanes, async (customer) => {
    const id = conversationId(account.id, channel, customer);
    for (let k = 0; k < perLane; k++) {
      const messageId = `stale-${customer}-${k}`;
      const before = await api.http.get(conversationPath(account.id, id), account.agentKey);
      const version: number = before.status === 200 ? before.body.version : 0;
      ledger.attempt(messageId);
      const res = await api.http.post(`/v1/accounts/${account.id}/messages`, messageBody(customer, messageId), account.serviceKey);
      if (res.status !== 202) continue;
      const accepted = performance.now();
      ledger.accept(id, messageId);
      let seen = false;
      let viewAt: number | undefined;
      let timelineBehind = false;
      while (performance.now() - accepted < 10_000) {
        if (viewAt === undefined) {
          const view = await api.http.get(conversationPath(account.id, id), account.agentKey);
          if (view.status === 200 && view.body.version > version) viewAt = performance.now();
        }
        if (viewAt !== undefined) {
          const timeline = await api.http.get(conversationPath(account.id, id, '/messages?limit=500'), account.agentKey);
          if (timeline.status === 200 && timeline.body.messages.some((m: { messageId: string }) => m.messageId === messageId)) {
            samples.push((timelineBehind ? performance.now() : viewAt) - accepted);
            seen = true;
            break;
          }
          if (!timelineBehind) timelineBehindView++;
          timelineBehind = true;
        }
        await sleep(pollIntervalMs);
      }
      if (!seen) timedOut++;
    }
  });
  stopBackground = true;
  await background;
  const stalenessMs = summarize(samples);
  ctx.log(`  staleness p50 ${stalenessMs.p50} ms, p99 ${stalenessMs.p99} ms, max ${stalenessMs.max} ms (${timedOut} timed out, ${timelineBehindView} with the timeline behind the view)`);
  return { samples: samples.length, backgroundRate: round(backgroundRate), pollIntervalMs, stalenessMs, timedOut, timelineBehindView };
}
