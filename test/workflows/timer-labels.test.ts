import type { temporal } from '@temporalio/proto';
import { collections } from '../../store/collections';
import { applyPolicyPatch, defaultPolicy } from '../../workflows/conversation/core/policy';
import { assignUpdate, replyUpdate } from '../../workflows/conversation/messages';
import { patchSet20261207 } from '../../workflows/conversation/patches';
import type { Conversation, Harness } from './support';
import { hours, minutes, startHarness, users } from './support';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const summaryOf = (e: HistoryEvent): string => JSON.parse(Buffer.from(e.userMetadata!.summary!.data!).toString()) as string;
/** The instant a label names: "wake-up at <ISO>, armed for: ..." (or "... to check the deadlines"). */
const instantOf = (label: string): number => Date.parse(/^wake-up at (\S+?),? /.exec(label)![1]!);

/**
 * Issue 22, item 11: what the Web UI shows for a conversation's timers stays true. A timer is kept when a
 * customer message moves the deadline later (no churn), so its label names the instant it wakes the
 * conversation and what it was armed for (issue 25: the deadlines due then, in words), and the deadlines
 * as they are now are in the run's details.
 */
describe('timer labels in the Web UI (dev server)', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ server: 'dev' });
  });
  afterEach(async () => {
    await h?.stop();
  });

  const history = async (c: Conversation): Promise<HistoryEvent[]> => (await c.handle.fetchHistory()).events ?? [];
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  const details = async (c: Conversation): Promise<string> =>
    ((await c.handle.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails ?? '';

  test('after the customer writes again, the pending timer still says what it was armed for, and the details name the moved deadlines', async () => {
    const c = h.conversation();
    const first = await c.customerWritesAndWait();
    await c.act(replyUpdate, { actor: users.agent, text: 'Hi!' });
    const armed = (await history(c)).filter((e) => e.timerStartedEventAttributes);
    expect(armed).toHaveLength(1);
    // The first timer wakes the conversation at the window's end, and says so in words.
    expect(summaryOf(armed[0]!)).toBe(`wake-up at ${first.windowExpiresAt}, armed for: window closes`);

    // A second message moves the window and the auto-close later; the timer is kept (no new history events).
    // So the second message comes at a later instant than the first was decided at (its ISO text differs).
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(first.updatedAt!) + 2 - Date.now())));
    const second = await c.customerWritesAndWait();
    expect(second.windowExpiresAt).not.toBe(first.windowExpiresAt);
    const events = await history(c);
    const timers = events.filter((e) => e.timerStartedEventAttributes);
    expect(timers).toHaveLength(1);
    expect(events.some((e) => e.timerFiredEventAttributes || e.timerCanceledEventAttributes)).toBe(false);

    // Every label is true of its timer: it names the instant the timer fires and what it was armed for.
    for (const timer of timers) {
      const label = summaryOf(timer);
      expect(label).toMatch(/^wake-up at \d{4}-\d{2}-\d{2}T[\d:.]+Z, armed for: .+$/);
      // The label is the workflow's clock plus the timer's duration. That clock lies between the start of
      // the task that armed the timer and the recording of its command, however long the task took under
      // load: bounds read from the history, not from the wall clock (±1 ms: durations are whole ms).
      const completed = events.find((e) => Number(e.eventId) === Number(timer.timerStartedEventAttributes!.workflowTaskCompletedEventId));
      const taskStarted = events.find((e) => Number(e.eventId) === Number(completed!.workflowTaskCompletedEventAttributes!.startedEventId));
      const duration = ms(timer.timerStartedEventAttributes!.startToFireTimeout);
      const labelled = instantOf(label);
      expect(labelled).toBeGreaterThanOrEqual(ms(taskStarted!.eventTime) + duration - 1);
      expect(labelled).toBeLessThanOrEqual(ms(timer.eventTime) + duration + 1);
    }

    // The current deadlines, in words, are in the run's details, with the pending wake-up.
    const text = await details(c);
    expect(text).toContain(`window closes at ${second.windowExpiresAt}`);
    expect(text).toContain(`auto-close (inactivity) at ${second.autoCloseAt}`);
    expect(text).toContain(`wake-up at ${first.windowExpiresAt}`);
    expect(text).not.toContain(`window closes at ${first.windowExpiresAt}`);

    // The run took the patch through the patch set, asked once, at its start (patches.ts).
    const markers = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    const patchIds = markers.flatMap((e) =>
      Object.values(e.markerRecordedEventAttributes!.details ?? {}).flatMap((d) => (d.payloads ?? []).map((p) => JSON.parse(Buffer.from(p.data!).toString()).id as string)),
    );
    expect(patchIds).toEqual([patchSet20261207]);
  });
});

/**
 * Issue 25: each timer names, in words, the deadlines due at its instant: an SLA warning (with its due
 * time), then the SLA breach, then the answer-within reroute, which the last timer carries out.
 */
describe('timer labels name the deadline they wait for (time-skipping server)', () => {
  let h: Harness;
  const policy = applyPolicyPatch(defaultPolicy, { sla: { normal: { firstResponse: '1h' } }, slaWarnBefore: '10m', answerWithin: '2h', autoCloseAfter: null });

  beforeEach(async () => {
    h = await startHarness({ server: 'time-skipping', policy });
  });
  afterEach(async () => {
    await h?.stop();
  });

  test('SLA first response warning, SLA first response due, answer-within: reroute if unanswered; the last one reroutes', async () => {
    const c = h.conversation();
    await c.customerWrites();
    const opened = await c.until((v) => v.sla.firstResponseDueAt !== null);
    const start = Date.parse(opened.lastCustomerMessageAt!);
    const due = start + hours(1);
    const { conversation: claimed } = await c.act(assignUpdate, { actor: users.agent, assigneeId: users.agent.userId });
    const answerBy = Date.parse(claimed.updatedAt!) + hours(2);

    await h.env!.sleep(minutes(55));
    await c.until((v) => v.version > claimed.version);
    await h.env!.sleep(minutes(10));
    const breached = await c.until((v) => v.sla.breached.includes('firstResponse'));
    await h.env!.sleep(answerBy - Date.parse(breached.updatedAt!) + 1_000);
    const rerouted = await c.until((v) => v.status === 'open');
    expect(rerouted.assigneeId).toBeNull();
    const [unanswered] = await collections(h.db).events.find({ conversationId: c.id, reason: 'unanswered' }).toArray();
    expect(unanswered).toMatchObject({ from: 'assigned', to: 'open', assigneeBefore: users.agent.userId, assigneeAfter: null, actor: { kind: 'system' } });
    expect(unanswered!.at).toBeGreaterThanOrEqual(answerBy);
    expect(unanswered!.at).toBeLessThan(answerBy + 1_000);

    const labels = ((await c.handle.fetchHistory()).events ?? []).filter((e) => e.timerStartedEventAttributes).map(summaryOf);
    const iso = (at: number) => new Date(at).toISOString();
    expect(labels.slice(0, 3)).toEqual([
      `wake-up at ${iso(due - minutes(10))}, armed for: SLA first response warning (due ${iso(due)})`,
      `wake-up at ${iso(due)}, armed for: SLA first response due`,
      `wake-up at ${iso(answerBy)}, armed for: answer-within: reroute if unanswered`,
    ]);
  });
});
