import type { temporal } from '@temporalio/proto';
import { replyUpdate } from '../../workflows/conversation/messages';
import { timerLabelPatch } from '../../workflows/conversation/patches';
import type { Conversation, Harness } from './support';
import { startHarness, users } from './support';

/**
 * Issue 22, item 11: what the Web UI shows for a conversation's timers stays true. A timer is kept when a
 * customer message moves the deadline later (no churn), so its label names what it does (the instant it
 * wakes the conversation to check the deadlines), and the deadlines in words are in the run's details.
 */
describe('timer labels in the Web UI (dev server)', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ server: 'dev' });
  });
  afterEach(async () => {
    await h?.stop();
  });

  type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
  const history = async (c: Conversation): Promise<HistoryEvent[]> => (await c.handle.fetchHistory()).events ?? [];
  const summaryOf = (e: HistoryEvent): string => JSON.parse(Buffer.from(e.userMetadata!.summary!.data!).toString()) as string;
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  const details = async (c: Conversation): Promise<string> =>
    ((await c.handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';

  test('after the customer writes again, the pending timer still says only what it waits for, and the details name the moved deadlines', async () => {
    const c = h.conversation();
    const first = await c.customerWritesAndWait();
    await c.act(replyUpdate, { actor: users.agent, text: 'Hi!' });
    const armed = (await history(c)).filter((e) => e.timerStartedEventAttributes);
    expect(armed).toHaveLength(1);
    // The first timer wakes the conversation at the window's end, and says so in words.
    expect(summaryOf(armed[0]!)).toBe(`wake-up at ${first.windowExpiresAt} to check the deadlines`);

    // A second message moves the window and the auto-close later; the timer is kept (no new history events).
    // So the second message comes at a later instant than the first was decided at (its ISO text differs).
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(first.updatedAt!) + 2 - Date.now())));
    const second = await c.customerWritesAndWait();
    expect(second.windowExpiresAt).not.toBe(first.windowExpiresAt);
    const events = await history(c);
    const timers = events.filter((e) => e.timerStartedEventAttributes);
    expect(timers).toHaveLength(1);
    expect(events.some((e) => e.timerFiredEventAttributes || e.timerCanceledEventAttributes)).toBe(false);

    // Every label is true of its timer: it names the instant the timer fires, and no deadline by kind.
    for (const timer of timers) {
      const label = summaryOf(timer);
      expect(label).toMatch(/^wake-up at \d{4}-\d{2}-\d{2}T[\d:.]+Z to check the deadlines$/);
      // The label is the workflow's clock plus the timer's duration. That clock lies between the start of
      // the task that armed the timer and the recording of its command, however long the task took under
      // load: bounds read from the history, not from the wall clock (±1 ms: durations are whole ms).
      const completed = events.find((e) => Number(e.eventId) === Number(timer.timerStartedEventAttributes!.workflowTaskCompletedEventId));
      const taskStarted = events.find((e) => Number(e.eventId) === Number(completed!.workflowTaskCompletedEventAttributes!.startedEventId));
      const duration = ms(timer.timerStartedEventAttributes!.startToFireTimeout);
      const labelled = Date.parse(label.split(' ')[2]!);
      expect(labelled).toBeGreaterThanOrEqual(ms(taskStarted!.eventTime) + duration - 1);
      expect(labelled).toBeLessThanOrEqual(ms(timer.eventTime) + duration + 1);
    }

    // The current deadlines, in words, are in the run's details, with the pending wake-up.
    const text = await details(c);
    expect(text).toContain(`window closes at ${second.windowExpiresAt}`);
    expect(text).toContain(`auto-close at ${second.autoCloseAt}`);
    expect(text).toContain(`wake-up at ${first.windowExpiresAt}`);
    expect(text).not.toContain(`window closes at ${first.windowExpiresAt}`);

    // The run asked for the patch once, at its start.
    const markers = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    const patchIds = markers.flatMap((e) =>
      Object.values(e.markerRecordedEventAttributes!.details ?? {}).flatMap((d) => (d.payloads ?? []).map((p) => JSON.parse(Buffer.from(p.data!).toString()).id as string)),
    );
    expect(patchIds).toContain(timerLabelPatch);
  });
});
