/**
 * Records the histories that test/replay/replay.test.ts replays: real conversations driven on a fresh
 * Temporal dev server and FerretDB (started here and stopped at the end), one JSON file per run, in the
 * SDK's history JSON form (`historyToJSON`, the same as `temporal workflow show --output json`).
 *
 *   npm run record:histories
 *
 * Re-record only on purpose: the committed histories are what running conversations in production
 * look like, and replaying them is how a non-deterministic workflow change is caught before a deploy.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// Not re-exported from the package root; this is the module the SDK's own replay samples import.
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startFerretDB, startTemporalDevServer } from '../../infra/local-servers';
import { ensureTools } from '../../infra/tools';
import { assignUpdate, policyChangedSignal, replyUpdate, resolveUpdate, takeOverUpdate, templateUpdate } from '../../workflows/conversation/messages';
import type { Policy } from '../../workflows/conversation/policy';
import { defaultPolicy } from '../../workflows/conversation/policy';
import type { Conversation, Harness } from '../workflows/support';
import { startHarness, users } from '../workflows/support';

export const historiesDir = path.join(__dirname, 'histories');

/** Short durations so window expiry and auto-close happen within seconds of real time. */
const shortPolicy: Policy = { ...defaultPolicy, serviceWindowMs: 3_000, autoCloseAfterMs: 6_000, version: 1 };

type Scenario = { name: string; drive(h: Harness): Promise<Conversation> };

const scenarios: Scenario[] = [
  {
    // Every row of SPEC section 2 the default policy has, across three runs of one conversation.
    name: 'full-lifecycle',
    async drive(h) {
      const c = h.conversation();
      await c.customerWritesAndWait('m-1');
      await c.customerWritesAndWait('m-2');
      await c.act(replyUpdate, { actor: users.agent, text: 'Hi, how can I help?' });
      await c.act(assignUpdate, { actor: users.agent, assigneeId: users.agent2.userId });
      await expectRejected(c.act(replyUpdate, { actor: users.agent, text: 'not mine any more' }));
      await c.act(takeOverUpdate, { actor: users.manager });
      await c.act(templateUpdate, { actor: users.manager, template: { name: 'order_update', language: 'en', params: ['42'] } });
      const beforeResolve = await c.runId();
      await c.act(resolveUpdate, { actor: users.manager });
      await rolledOver(c, beforeResolve);
      // Closed: a free-form reply is rejected, a template is recorded, a customer message reopens.
      await expectRejected(c.act(replyUpdate, { actor: users.agent, text: 'one more thing' }));
      await c.act(templateUpdate, { actor: users.agent, template: { name: 'follow_up' } });
      await c.customerWritesAndWait('m-3');
      await c.act(replyUpdate, { actor: users.agent, text: 'Back again?' });
      // Window expiry, then auto-close for inactivity (continue-as-new), then episode 3.
      const beforeInactivity = await c.runId();
      await c.until((v) => v.status === 'closed' && v.closedReason === 'inactivity');
      await rolledOver(c, beforeInactivity);
      await c.customerWritesAndWait('m-4');
      await c.customerWrites('m-4'); // a redelivery: recorded once
      await c.handle.signal(policyChangedSignal, { ...shortPolicy, autoCloseAfterMs: 60_000, version: 2 });
      await c.customerWritesAndWait('m-5');
      return c;
    },
  },
  {
    // A long episode rolls over by the history budget, several times, carrying state and dedupe.
    name: 'history-budget',
    async drive(h) {
      const c = h.conversation({ limits: { historyEventBudget: 40 } });
      await c.customerWritesAndWait('m-1');
      await c.act(replyUpdate, { actor: users.agent, text: 'Hi!' });
      for (let i = 2; i <= 16; i++) await c.customerWritesAndWait(`m-${i}`);
      await c.customerWrites('m-1');
      await c.customerWritesAndWait('m-17');
      await c.act(replyUpdate, { actor: users.agent, text: 'Done?' });
      return c;
    },
  },
  {
    // An open conversation nobody answers: the window expires, it stays open, a supervisor resolves it.
    name: 'open-window-expiry',
    async drive(h) {
      const c = h.conversation();
      await c.customerWritesAndWait('m-1');
      await c.until((v) => Date.parse(v.windowExpiresAt!) + 500 < Date.now());
      await expectRejected(c.act(replyUpdate, { actor: users.agent, text: 'too late' }));
      await c.act(templateUpdate, { actor: users.agent, template: { name: 'reengage' } });
      await c.act(resolveUpdate, { actor: users.manager });
      return c;
    },
  },
];

async function expectRejected(action: Promise<unknown>): Promise<void> {
  const outcome = await action.then(
    () => 'accepted',
    () => 'rejected',
  );
  if (outcome !== 'rejected') throw new Error('an action the lifecycle must reject was accepted');
}

async function rolledOver(c: Conversation, runId: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await c.runId()) === runId) {
    if (Date.now() > deadline) throw new Error(`run ${runId} never continued as new`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  const tools = await ensureTools({ log: (line) => process.stderr.write(`[tools] ${line}\n`) });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'convoflow-record-'));
  const [temporal, ferretdb] = await Promise.all([
    startTemporalDevServer({ binary: tools.temporal, headless: true, logFile: path.join(scratch, 'temporal.log') }),
    startFerretDB({ binary: tools.ferretdb, dataDir: path.join(scratch, 'ferretdb'), logFile: path.join(scratch, 'ferretdb.log') }),
  ]);
  const servers = { temporalAddress: temporal.address, mongoUri: ferretdb.uri, temporalTestServer: tools.temporalTestServer };
  try {
    fs.mkdirSync(historiesDir, { recursive: true });
    for (const file of fs.readdirSync(historiesDir)) if (file.endsWith('.json')) fs.rmSync(path.join(historiesDir, file));
    for (const scenario of scenarios) {
      const h = await startHarness({ server: 'dev', policy: shortPolicy, servers });
      try {
        const c = await scenario.drive(h);
        const runs = await c.runs();
        for (const [i, run] of runs.entries()) {
          const history = await c.client.workflow.getHandle(c.id, run.runId).fetchHistory();
          const file = path.join(historiesDir, `${scenario.name}.run${i + 1}.json`);
          fs.writeFileSync(file, JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n');
          console.log(`${path.relative(process.cwd(), file)}: ${run.eventTypes.length} events, ${fs.statSync(file).size} bytes`);
        }
        await c.handle.terminate('recorded');
      } finally {
        await h.stop();
      }
    }
  } finally {
    await Promise.all([temporal.stop(), ferretdb.stop()]);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
