import { collections } from '../../store/collections';
import { agentPresenceSignal, assignUpdate, customerEventSignal, endUpdate, leaveUpdate, replyUpdate, resolveUpdate } from '../../workflows/conversation/messages';
import type { Policy } from '../../workflows/conversation/core/policy';
import { presets } from '../../workflows/conversation/core/policy';
import type { ConversationView } from '../../workflows/conversation/core/view';
import type { Harness } from './support';
import { hours, minutes, startHarness, users } from './support';

/**
 * The timeouts of SPEC section 3's presets at their DEFAULT values, on the time-skipping test server:
 * work items' 24h waiting timeout and 5-minute agent reconnect timeout, the status inbox's 24h CSAT
 * timeout, and a wrap-up capacity block overridden to 10 minutes. The account's policy is stored in
 * MongoDB before the first message, so the workflow loads it the way production does.
 */
const workItems: Policy = { preset: 'work_items', ...presets.work_items, version: 1 };
const statusInbox: Policy = { preset: 'status_inbox', ...presets.status_inbox, version: 1 };

const seconds = (n: number): number => n * 1_000;
const agentId = users.agent.userId;

describe('preset timeouts (time-skipping server, default preset values)', () => {
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  async function start(policy: Policy): Promise<Harness> {
    h = await startHarness({ server: 'time-skipping', policy });
    return h;
  }

  const sleep = (ms: number) => h!.env!.sleep(ms);
  const events = (conversationId: string) => collections(h!.db).events.find({ conversationId }, { sort: { seq: 1 } }).toArray();

  /** A customer writes and agent 1 claims the conversation: assigned at server time ~0. */
  async function claimedConversation() {
    const c = h!.conversation();
    await c.customerWrites();
    await c.until((v) => v.status === 'open');
    const { conversation } = await c.act(assignUpdate, { actor: users.agent, assigneeId: agentId });
    expect(conversation).toMatchObject({ status: 'assigned', assigneeId: agentId, heldBy: agentId });
    return c;
  }

  /** Sends a signal and waits until the workflow has applied it (its version moved on). */
  async function applied(c: ReturnType<Harness['conversation']>, send: () => Promise<void>): Promise<ConversationView> {
    const before = await c.view();
    await send();
    return c.until((v) => v.version > before.version);
  }

  test('work items: a waiting conversation closes after 24 hours without activity with reason inactivity, and not at 23h59m', async () => {
    await start(workItems);
    const c = await claimedConversation();
    const { conversation } = await c.act(leaveUpdate, { actor: users.agent });
    expect(conversation).toMatchObject({ status: 'waiting', assigneeId: agentId, heldBy: null });

    await sleep(hours(23) + minutes(59));
    expect(await c.view()).toMatchObject({ status: 'waiting', assigneeId: agentId, closedReason: null });

    await sleep(minutes(2));
    expect(await c.until((v) => v.status !== 'waiting')).toMatchObject({ status: 'closed', closedReason: 'inactivity', assigneeId: null, heldBy: null });
    expect((await events(c.id)).at(-1)).toMatchObject({ from: 'waiting', to: 'closed', reason: 'inactivity', actor: { kind: 'system' } });
  });

  test('work items: an agent disconnect without a reconnect returns the assigned conversation to open after 5 minutes, and not at 4m59s', async () => {
    await start(workItems);
    const c = await claimedConversation();
    const disconnected = await applied(c, () => c.handle.signal(agentPresenceSignal, { userId: agentId, online: false }));
    expect(disconnected).toMatchObject({ status: 'assigned', assigneeId: agentId });

    await sleep(minutes(4) + seconds(59));
    expect(await c.view()).toMatchObject({ status: 'assigned', assigneeId: agentId, heldBy: agentId });

    await sleep(seconds(2));
    expect(await c.until((v) => v.status !== 'assigned')).toMatchObject({ status: 'open', assigneeId: null, heldBy: null, episode: 1 });
    expect((await events(c.id)).at(-1)).toMatchObject({ from: 'assigned', to: 'open', reason: 'agent_disconnected', assigneeBefore: agentId });
  });

  test('work items: an agent who reconnects within the 5 minutes keeps the conversation assigned', async () => {
    await start(workItems);
    const c = await claimedConversation();
    await applied(c, () => c.handle.signal(agentPresenceSignal, { userId: agentId, online: false }));
    await sleep(minutes(3));
    await applied(c, () => c.handle.signal(agentPresenceSignal, { userId: agentId, online: true }));

    await sleep(minutes(10));
    expect(await c.view()).toMatchObject({ status: 'assigned', assigneeId: agentId, heldBy: agentId });
    expect((await events(c.id)).map((e) => e.reason)).not.toContain('agent_disconnected');
  });

  test('status inbox: a resolved conversation whose survey is not answered closes after 24 hours with reason csat_timeout, and not at 23h59m', async () => {
    await start(statusInbox);
    const c = h!.conversation();
    await c.customerWrites();
    await c.until((v) => v.status === 'open');
    await c.act(replyUpdate, { actor: users.agent, text: 'Happy to help' });
    const { conversation, messageId } = await c.act(resolveUpdate, { actor: users.agent });
    expect(conversation).toMatchObject({ status: 'resolved', assigneeId: null, heldBy: null, csatScore: null });
    expect(messageId).not.toBeNull();

    await sleep(hours(23) + minutes(59));
    expect(await c.view()).toMatchObject({ status: 'resolved', closedReason: null });

    await sleep(minutes(2));
    expect(await c.until((v) => v.status !== 'resolved')).toMatchObject({ status: 'closed', closedReason: 'csat_timeout', csatScore: null });
    expect((await events(c.id)).at(-1)).toMatchObject({ from: 'resolved', to: 'closed', reason: 'csat_timeout', actor: { kind: 'system' } });
  });

  test('status inbox: the survey answer closes the resolved conversation and the view keeps the score', async () => {
    await start(statusInbox);
    const c = h!.conversation();
    await c.customerWrites();
    await c.until((v) => v.status === 'open');
    await c.act(replyUpdate, { actor: users.agent, text: 'Happy to help' });
    await c.act(resolveUpdate, { actor: users.agent });

    await sleep(hours(2));
    await c.handle.signal(customerEventSignal, { type: 'csat', score: 5 });
    expect(await c.until((v) => v.status !== 'resolved')).toMatchObject({ status: 'closed', closedReason: 'resolved', csatScore: 5 });
    expect((await events(c.id)).at(-1)).toMatchObject({ from: 'resolved', to: 'closed', reason: 'resolved', actor: { kind: 'customer' } });
  });

  test("work items with wrap-up capacity '10m': the agent's capacity is released after 10 minutes while the conversation stays in wrap_up", async () => {
    await start({ ...workItems, wrapUpCapacity: minutes(10) });
    const c = await claimedConversation();
    const { conversation } = await c.act(endUpdate, { actor: users.agent });
    expect(conversation).toMatchObject({ status: 'wrap_up', assigneeId: agentId, heldBy: agentId });

    await sleep(minutes(9) + seconds(59));
    expect(await c.view()).toMatchObject({ status: 'wrap_up', heldBy: agentId });

    await sleep(seconds(2));
    expect(await c.until((v) => v.heldBy === null)).toMatchObject({ status: 'wrap_up', assigneeId: agentId, heldBy: null });

    const ended = await c.act(endUpdate, { actor: users.agent });
    expect(ended.conversation).toMatchObject({ status: 'closed', closedReason: 'ended', heldBy: null });
  });
});
