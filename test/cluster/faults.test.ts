import { createBenchAccount, conversationPath, customerId } from '../../bench/accounts';
import type { BenchAccount } from '../../bench/accounts';
import { Http } from '../../bench/http-client';
import { mapLimit, sleep } from '../../bench/load';
import { Ledger, checkTimelines, checkViews, missedAutoCloses, waitForInbound } from '../../bench/verify';
import { deliver } from '../../chaos/deliver';
import type { Delivery } from '../../chaos/deliver';
import type { ClusterRole } from '../../dev/temporal-cluster';
import { testCluster } from '../support/cluster';
import { useStack } from '../support/stack';

/**
 * Faults of a production cluster during a load of customer deliveries: kill -9 of the history, matching
 * and frontend services (each restarted after an outage), and a restart of PostgreSQL. Deliveries are
 * retried like a backend service would (chaos/deliver.ts), and afterwards the chaos harness's checks
 * (bench/verify.ts) must find every accepted message in its timeline exactly once, every reply recorded
 * as answered, and every MongoDB view equal to its workflow's state.
 */

const conversations = 100;
const messagesEach = 3;
const outageMs = 6_000;

describe('a multi-service Temporal cluster under faults', () => {
  const env = useStack();
  const cluster = testCluster();
  let group = 70;

  async function loadWithFault(role: ClusterRole, fault: () => Promise<string>) {
    const http = new Http(env.stack.baseUrl);
    const account: BenchAccount = await createBenchAccount(http, env.stack.platformKey, `fault-${role}`);
    const ledger = new Ledger();
    const g = group++;
    const customers = Array.from({ length: conversations }, (_, i) => customerId(g, i));
    const plan: Delivery[] = [];
    for (let k = 0; k < messagesEach; k++) for (const c of customers) plan.push({ customer: c, messageId: `${role}-${c}-${k}` });
    let note = '';
    // Accepted when the fault struck and when the repair was done: what is accepted after the strike, and
    // retried tries, show that the load really ran through the outage.
    let acceptedAtFault = 0;
    let acceptedAtRepair = 0;
    const report = await deliver({
      http: () => http,
      account,
      ledger,
      plan,
      concurrency: 16,
      deadlineMs: 240_000,
      midway: {
        afterAccepted: Math.floor(plan.length / 3),
        action: async () => {
          acceptedAtFault = ledger.acceptedCount;
          note = await fault();
          acceptedAtRepair = ledger.acceptedCount;
        },
      },
    });
    // One reply to every conversation through the recovered cluster (a Workflow Update each), retried with
    // the same Idempotency-Key on a 503 so it is recorded once either way.
    let replyFailures = 0;
    await mapLimit(ledger.conversations(), 8, async (id) => {
      for (let attempt = 1; attempt <= 10; attempt++) {
        const res = await http.request('POST', conversationPath(account.id, id, '/replies'), account.agentKey, { text: 'on it' }, 30_000, { 'idempotency-key': `reply-${id}` });
        if (res.status === 200) return ledger.reply(id);
        await sleep(500);
      }
      replyFailures++;
    });
    const { db, client } = env.stack;
    await waitForInbound(db, account.id, ledger.acceptedCount, 120_000);
    const timeline = await checkTimelines(db, account.id, ledger);
    const views = await checkViews(client, db, ledger.conversations(), 30_000);
    const autoClose = await missedAutoCloses(db, ledger.conversations());
    const counts = {
      deliveries: plan.length,
      accepted: timeline.accepted,
      acceptedAtFault,
      acceptedDuringOutage: acceptedAtRepair - acceptedAtFault,
      acceptedAfterRepair: timeline.accepted - acceptedAtRepair,
      retriedDeliveries: report.retries,
      lost: timeline.lost,
      duplicated: timeline.duplicated,
      unexpected: timeline.unexpected,
      repliesMismatched: timeline.repliesMismatched,
      mismatchedViews: views.mismatched,
      unreachableWorkflows: views.unreachable,
      missedAutoCloses: autoClose.missed,
      gaveUp: report.gaveUp,
      replyFailures,
    };
    // The counts are the point of this tier: print them so a run's log (and CI's) shows what was checked.
    process.stderr.write(`[fault ${role}] ${note}; ${JSON.stringify(counts)}; failed tries: ${JSON.stringify(report.failures)}\n`);
    for (const example of [...timeline.examples, ...views.examples, ...autoClose.examples]) process.stderr.write(`  ${example}\n`);
    return counts;
  }

  const expectNothingLost = (counts: Awaited<ReturnType<typeof loadWithFault>>) => {
    expect(counts.accepted).toBe(counts.deliveries);
    // The fault struck mid-load, with two thirds of the deliveries still to come. Where they went depends
    // on the fault: held by the client's retries until the frontend or history is back, answered 503 and
    // sent again while PostgreSQL is down, or accepted at once with matching down (history takes the
    // signal; its workflow task reaches a worker once matching is back, which the checks then prove).
    expect(counts.acceptedAtFault).toBeLessThan(counts.deliveries);
    const zero = { deliveries: 0, accepted: 0, acceptedAtFault: 0, acceptedDuringOutage: 0, acceptedAfterRepair: 0, retriedDeliveries: 0 };
    expect({ ...counts, ...zero }).toEqual({
      ...zero,
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      repliesMismatched: 0,
      mismatchedViews: 0,
      unreachableWorkflows: 0,
      missedAutoCloses: 0,
      gaveUp: 0,
      replyFailures: 0,
    });
  };

  it.each(['history', 'matching', 'frontend'] as const)(
    'kill -9 of the %s service mid-load, restarted after an outage: nothing lost, duplicated or mismatched',
    async (role) => {
      const counts = await loadWithFault(role, async () => {
        const pid = await cluster.kill9(role);
        await sleep(outageMs);
        const next = await cluster.start(role);
        return `killed ${role} pid ${pid}, restarted as pid ${next} after ${outageMs / 1000} s`;
      });
      expectNothingLost(counts);
    },
    300_000,
  );

  it(
    'a PostgreSQL restart mid-load: nothing lost, duplicated or mismatched',
    async () => {
      const counts = await loadWithFault('postgres', async () => {
        const t = Date.now();
        await cluster.stop('postgres');
        await sleep(outageMs);
        const pid = await cluster.start('postgres');
        return `PostgreSQL stopped and back as pid ${pid} after ${Date.now() - t} ms`;
      });
      expectNothingLost(counts);
    },
    300_000,
  );
});
