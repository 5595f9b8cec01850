import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { collections } from '../../store/collections';
import { assignUpdate, replyUpdate, resolveUpdate, templateUpdate } from '../../workflows/conversation/messages';
import { accountIdKey, assigneeIdKey, conversationStatusKey } from '../../workflows/conversation/search-attributes';
import type { Harness } from './support';
import { startHarness, users } from './support';

/**
 * Bounded history (dev server): a conversation continues as new past its history budget, and the new run
 * is the same conversation: state, deduplication, search attributes. An episode's end is not a run's end:
 * close and reopen happen in the same run.
 */
describe('continue-as-new (dev server)', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ server: 'dev' });
  });
  afterEach(async () => {
    await h?.stop();
  });

  const budget = 60;

  /** Waits until the conversation's latest run is not `runId`. */
  async function rolledOverFrom(c: ReturnType<Harness['conversation']>, runId: string): Promise<string> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const now = await c.runId();
      if (now !== runId) return now;
      if (Date.now() > deadline) throw new Error(`run ${runId} never continued as new`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('past the history budget it continues as new, carrying state, deduplication and search attributes, each run bounded by the budget', async () => {
    const c = h.conversation({ limits: { historyEventBudget: budget } });
    await c.customerWritesAndWait('m-1');
    const firstRunId = await c.runId();
    await c.act(replyUpdate, { actor: users.agent, text: 'Hi!' });
    await c.act(assignUpdate, { actor: users.agent, assigneeId: users.agent2.userId });
    for (let i = 2; i <= 30; i++) await c.customerWritesAndWait(`m-${i}`);

    const carried = await c.until((v) => v.unreadCount === 29);
    // 29 customer messages after the reply, plus the first message, the reply and the reassignment; the
    // reply's delivery (sent) changes nothing the view shows and takes no version (light-delivery).
    expect(carried).toMatchObject({ status: 'assigned', assigneeId: users.agent2.userId, episode: 1, unreadCount: 29, version: 32 });

    const runs = await c.runs();
    expect(runs[0]!.runId).toBe(firstRunId);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const currentRunId = await c.runId();
    expect(currentRunId).not.toBe(firstRunId);
    for (const run of runs.slice(0, -1)) {
      expect(run.eventTypes.at(-1)).toBe('WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
      // The check runs when the workflow is idle, so a run ends within one message's events of the budget
      // (signal, workflow task, persist marker: 5-6 events; 66-67 in a quiet run). A loaded machine may add
      // a workflow task or two on the way (3 events each: a run of 71 was seen at load 5 on 2 cores).
      expect(run.eventTypes.length).toBeLessThanOrEqual(budget + 15);
    }

    // A redelivery of the first message, after the rollover, is recognised: only the fresh one counts.
    await c.customerWrites('m-1');
    await c.customerWrites('m-31');
    const after = await c.until((v) => v.version > carried.version);
    expect(after).toMatchObject({ unreadCount: 30, version: carried.version + 1 });
    const messages = collections(h.db).messages;
    expect(await messages.countDocuments({ conversationId: c.id, messageId: 'm-1' })).toBe(1);
    expect(await messages.countDocuments({ conversationId: c.id, direction: 'inbound' })).toBe(31);

    // The new run carries the search attributes the Web UI lists by.
    const description = await c.handle.describe();
    expect(description.runId).not.toBe(firstRunId);
    expect(description.typedSearchAttributes.get(conversationStatusKey)).toBe('assigned');
    expect(description.typedSearchAttributes.get(assigneeIdKey)).toBe(users.agent2.userId);
    expect(description.typedSearchAttributes.get(accountIdKey)).toBe(h.accountId);

    // And the MongoDB view never moved backwards across the runs.
    expect(await collections(h.db).conversations.findOne({ _id: c.id })).toMatchObject({ version: after.version, unreadCount: 30 });
  });

  test('resolving ends the episode in the same run, and a later customer message reopens episode 2 in that run', async () => {
    const c = h.conversation();
    await c.customerWritesAndWait();
    await c.act(replyUpdate, { actor: users.agent, text: 'Hi!' });
    const run = await c.runId();

    const { conversation } = await c.act(resolveUpdate, { actor: users.agent });
    expect(conversation).toMatchObject({ status: 'closed', closedReason: 'resolved' });
    // The Web UI lists it as closed at once: the run upserts its search attributes.
    expect((await c.handle.describe()).typedSearchAttributes.get(conversationStatusKey)).toBe('closed');

    const reopened = await c.customerWritesAndWait();
    expect(reopened).toMatchObject({ status: 'open', episode: 2, assigneeId: null, unreadCount: 1, closedReason: null });
    const description = await c.handle.describe();
    expect(description.typedSearchAttributes.get(conversationStatusKey)).toBe('open');
    expect(description.typedSearchAttributes.get(assigneeIdKey)).toBeUndefined();
    expect(description.runId).toBe(run);
    const events = await c.eventTypes(run);
    expect(events).not.toContain('WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    // The close recorded the patch marker that keeps older runs continuing as new at their close.
    expect(events).toContain('MARKER_RECORDED');
  });

  test('episodes closed and reopened in one run carry over the history budget like any other state', async () => {
    const c = h.conversation({ limits: { historyEventBudget: budget } });
    await c.customerWritesAndWait('m-1');
    const firstRunId = await c.runId();
    await c.act(replyUpdate, { actor: users.agent, text: 'Hi!' });
    await c.act(resolveUpdate, { actor: users.agent });
    expect(await c.runId()).toBe(firstRunId);
    // Episode 2 opens in the same run, then messages take it past the budget.
    for (let i = 2; i <= 20 && (await c.runId()) === firstRunId; i++) await c.customerWritesAndWait(`m-${i}`);
    await rolledOverFrom(c, firstRunId);
    await c.customerWrites('m-1'); // a redelivery from episode 1, after the rollover: recorded once
    await c.act(resolveUpdate, { actor: users.manager });
    const closed = await c.until((v) => v.status === 'closed');
    expect(closed).toMatchObject({ episode: 2, closedReason: 'resolved' });
    const reopened = await c.customerWritesAndWait('m-last');
    expect(reopened).toMatchObject({ status: 'open', episode: 3, unreadCount: 1 });
    expect(await collections(h.db).messages.countDocuments({ conversationId: c.id, messageId: 'm-1' })).toBe(1);
  });

  test('a reply rejected right after resolve and a template after it leave no timed-out workflow task', async () => {
    const c = h.conversation();
    await c.customerWritesAndWait();
    await c.act(replyUpdate, { actor: users.agent, text: 'Hi!' });
    await c.act(resolveUpdate, { actor: users.agent });

    const rejected = await c.act(replyUpdate, { actor: users.agent, text: 'one more thing' }).catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(((rejected as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('conversation_closed');
    const template = await c.act(templateUpdate, { actor: users.agent2, template: { name: 'follow_up' } });
    expect(template.conversation).toMatchObject({ status: 'closed', episode: 1 });

    for (const run of await c.runs()) expect(run.eventTypes).not.toContain('WORKFLOW_TASK_TIMED_OUT');
  });
});
