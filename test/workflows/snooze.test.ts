import { collections } from '../../store/collections';
import { assignUpdate, snoozeUpdate } from '../../workflows/conversation/messages';
import type { Conversation, Harness } from './support';
import { hours, startHarness, users } from './support';

/**
 * SPEC 9's snooze on the time-skipping server: a snooze longer than the inactivity close is not closed,
 * wakes at its moment to the second, and restarts the inactivity clock from the wake; and a snooze is
 * carried across continue-as-new (plain JSON state) and still wakes in the next run.
 */
describe('snooze (time-skipping server)', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ server: 'time-skipping' });
  });
  afterEach(async () => {
    await h?.stop();
  });

  const wakeEvents = (conversationId: string) => collections(h.db).events.find({ conversationId, reason: 'snooze_ended' }).toArray();

  test('a three-day snooze outlives the 48h inactivity close, wakes at its moment, and the inactivity clock restarts from the wake', async () => {
    const c = h.conversation();
    await c.customerWritesAndWait();
    await c.act(assignUpdate, { actor: users.agent, assigneeId: users.agent.userId });
    const { conversation } = await c.act(snoozeUpdate, { actor: users.agent, until: '3d' });
    expect(conversation).toMatchObject({ status: 'snoozed', assigneeId: users.agent.userId, autoCloseAt: null });
    const wakeAt = Date.parse(conversation.snoozedUntil!);

    await h.env!.sleep(wakeAt - Date.parse(conversation.updatedAt!) - 60_000);
    // The clock is past the 48h inactivity close and a minute short of the wake: still snoozed, not closed.
    expect(await c.view()).toMatchObject({ status: 'snoozed', closedReason: null });
    await h.env!.sleep(61_000);
    const woke = await c.until((v) => v.status === 'assigned');
    expect(woke).toMatchObject({ assigneeId: users.agent.userId, snoozedUntil: null });
    const [event] = await wakeEvents(c.id);
    expect(event).toMatchObject({ from: 'snoozed', to: 'assigned', actor: { kind: 'system' } });
    expect(event!.at).toBeGreaterThanOrEqual(wakeAt);
    expect(event!.at).toBeLessThan(wakeAt + 1_000);
    expect(Date.parse(woke.autoCloseAt!)).toBe(event!.at + hours(48));
  });
});

describe('snooze across continue-as-new (dev server)', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ server: 'dev' });
  });
  afterEach(async () => {
    await h?.stop();
  });

  /** The carried state of the conversation's latest run, once that run has finished its first workflow task (so an input sent now lands in it). */
  async function settledRun(c: Conversation, check: (carried: { status: string; version: number; snoozedUntil?: number | null }) => boolean) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const events = (await c.handle.fetchHistory()).events ?? [];
      const started = events[0]!.workflowExecutionStartedEventAttributes!;
      const carried = JSON.parse(Buffer.from(started.input!.payloads![0]!.data!).toString()).carriedFromPreviousRun?.state;
      const tasks = events.filter((e) => e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes || e.workflowTaskCompletedEventAttributes);
      if (carried && check(carried) && tasks.at(-1)?.workflowTaskCompletedEventAttributes) return carried;
      if (Date.now() > deadline) throw new Error('no settled run carried the expected state');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('a snooze is carried into the next run (plain JSON) and wakes there', async () => {
    // A budget of 3 events: every run continues as new after the first input it decides.
    const c = h.conversation({ limits: { historyEventBudget: 3 } });
    await c.customerWrites();
    await settledRun(c, (s) => s.version >= 1);
    await c.act(assignUpdate, { actor: users.agent, assigneeId: users.agent.userId });
    await settledRun(c, (s) => s.status === 'assigned');
    const { conversation } = await c.act(snoozeUpdate, { actor: users.agent, until: '3s' });
    const until = Date.parse(conversation.snoozedUntil!);
    const carried = await settledRun(c, (s) => s.status === 'snoozed');
    expect(carried.snoozedUntil).toBe(until);
    const woke = await c.until((v) => v.status === 'assigned' && v.version > conversation.version, 30_000);
    expect(woke).toMatchObject({ assigneeId: users.agent.userId, snoozedUntil: null });
    const [event] = await collections(h.db).events.find({ conversationId: c.id, reason: 'snooze_ended' }).toArray();
    expect(event!.at).toBeGreaterThanOrEqual(until);
  });
});
