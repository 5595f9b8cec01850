import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { collections } from '../../store/collections';
import { policyChangedSignal, replyUpdate, templateUpdate } from '../../workflows/conversation/messages';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import type { Harness } from './support';
import { hours, minutes, startHarness, users } from './support';

/**
 * The durable timers of SPEC section 2 under the DEFAULT policy (48h auto-close, 24h window), on the
 * time-skipping test server: `env.sleep` moves the server clock, so two days pass in milliseconds.
 * Each test gets its own server, task queue, database and account, so no clock is shared.
 */
describe('conversation timers (time-skipping server, default policy)', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ server: 'time-skipping' });
  });
  afterEach(async () => {
    await h?.stop();
  });

  const sleep = (ms: number) => h.env!.sleep(ms);

  /** A customer writes and the agent replies: the conversation is assigned at server time ~0. */
  async function assignedConversation() {
    const c = h.conversation();
    await c.customerWrites();
    await c.until((v) => v.status === 'open');
    const { conversation } = await c.act(replyUpdate, { actor: users.agent, content: { kind: 'text', text: 'Hi, how can I help?' } });
    expect(conversation).toMatchObject({ status: 'assigned', assigneeId: users.agent.userId });
    return c;
  }

  test('48 hours of customer silence closes an assigned conversation with reason inactivity, and not at 47h59m', async () => {
    const c = await assignedConversation();

    await sleep(hours(47) + minutes(59));
    expect(await c.view()).toMatchObject({ status: 'assigned', assigneeId: users.agent.userId, closedReason: null });

    await sleep(minutes(2));
    expect(await c.view()).toMatchObject({ status: 'closed', closedReason: 'inactivity', assigneeId: null, episode: 1 });
    const closing = await collections(h.db).events.findOne({ conversationId: c.id, to: 'closed' });
    expect(closing).toMatchObject({ from: 'assigned', reason: 'inactivity', actor: { kind: 'system' } });
  });

  test('a customer message at 40h moves the inactivity deadline to 88h', async () => {
    const c = await assignedConversation();

    await sleep(hours(40));
    await c.customerWritesAndWait();
    const moved = await c.view();
    expect(moved).toMatchObject({ status: 'assigned', unreadCount: 1 });
    // The view says so too: the deadline is 48h after the message, not after the assignment.
    expect(Date.parse(moved.autoCloseAt!) - Date.parse(moved.lastCustomerMessageAt!)).toBe(hours(48));

    await sleep(hours(8) + minutes(1)); // 48h01m: the original deadline has passed
    expect(await c.view()).toMatchObject({ status: 'assigned', assigneeId: users.agent.userId });

    await sleep(hours(40)); // 88h01m
    expect(await c.view()).toMatchObject({ status: 'closed', closedReason: 'inactivity' });
  });

  test('after the 24h window a free-form reply is rejected with window_expired while a template is accepted, and the expiry is recorded once', async () => {
    const c = await assignedConversation();

    await sleep(hours(23) + minutes(59));
    await expect(c.act(replyUpdate, { actor: users.agent, content: { kind: 'text', text: 'still inside the window' } })).resolves.toMatchObject({
      conversation: { status: 'assigned' },
    });

    await sleep(minutes(2));
    const before = await c.view();
    const rejected = await c.act(replyUpdate, { actor: users.agent, content: { kind: 'text', text: 'too late' } }).catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (rejected as WorkflowUpdateFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('window_expired');
    expect(await c.view()).toEqual(before);

    const template = await c.act(templateUpdate, { actor: users.agent, content: { kind: 'template', template: { name: 'follow_up', language: 'en' } } });
    expect(template.conversation).toMatchObject({ status: 'assigned', assigneeId: users.agent.userId });
    expect(template.messageId).not.toBeNull();

    // Sending the template does not reopen the window, and the expiry is an event exactly once.
    await sleep(hours(12));
    const events = collections(h.db).events;
    expect(await events.countDocuments({ conversationId: c.id, reason: 'window_expired' })).toBe(1);
    expect(await events.findOne({ conversationId: c.id, reason: 'window_expired' })).toMatchObject({ from: 'assigned', to: 'assigned' });
  });

  test('a policy change signalled to a running conversation closes it by the new, shorter autoCloseAfter', async () => {
    const c = await assignedConversation();

    await sleep(minutes(10));
    await c.handle.signal(policyChangedSignal, { ...defaultPolicy, autoCloseAfterMs: hours(1), version: 1 });
    // An older policy arriving late changes nothing.
    await c.handle.signal(policyChangedSignal, { ...defaultPolicy, autoCloseAfterMs: hours(100), version: 0 });

    await sleep(minutes(40)); // 50m after the assignment
    expect(await c.view()).toMatchObject({ status: 'assigned' });

    await sleep(minutes(11)); // 1h01m
    expect(await c.view()).toMatchObject({ status: 'closed', closedReason: 'inactivity' });
  });
});
