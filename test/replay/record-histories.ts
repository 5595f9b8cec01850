/**
 * Records the histories that test/replay/replay.test.ts replays: real conversations (and the account
 * router) driven on a fresh Temporal dev server and FerretDB (started here and stopped at the end), one
 * JSON file per run, in the SDK's history JSON form (`historyToJSON`, the same as
 * `temporal workflow show --output json`).
 *
 *   npm run record:histories
 *
 * Two kinds of scenario: the first talk to one conversation workflow through the Temporal client (the
 * workflow test harness); the others drive the whole stack (worker with routing, and the HTTP API) the
 * way a customer's systems do, for the presets and the per-account router. Files are named
 * `{scenario}.run{n}.json` for the first kind and `{scenario}.{workflow}.run{n}.json` for the second.
 *
 * Re-record only on purpose: the committed histories are what running conversations in production
 * look like, and replaying them is how a non-deterministic workflow change is caught before a deploy.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
// Not re-exported from the package root; this is the module the SDK's own replay samples import.
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startFerretDB, startTemporalDevServer } from '../../dev/local-servers';
import { ensureTools } from '../../dev/tools';
import { assignUpdate, policyChangedSignal, replyUpdate, resolveUpdate, snoozeUpdate, tagsUpdate, takeOverUpdate, templateUpdate } from '../../workflows/conversation/messages';
import type { Policy } from '../../workflows/conversation/core/policy';
import { applyPolicyPatch, defaultPolicy } from '../../workflows/conversation/core/policy';
import { routerWorkflowId } from '../../workflows/routing/messages';
import { bodyReceivedSignal, webhookInboxWorkflowId, webhookInboxWorkflowType } from '../../workflows/webhook-inbox/messages';
import { collections } from '../../store/collections';
import type { FakeGraph } from '../support/fake-graph';
import { inboundImageBody, inboundTextBody, metaWebhookBody, signedMetaRequest, startFakeGraph, statusWebhookBody } from '../support/fake-graph';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import type { Stack } from '../support/stack';
import { eventually, startStack } from '../support/stack';
import type { TestServers } from '../support/test-servers';
import type { Conversation, Harness } from '../workflows/support';
import { startHarness, users } from '../workflows/support';

export const historiesDir = path.join(__dirname, 'histories');

/** A recorded history must stay small enough to review and to replay quickly in CI. */
export const maxHistoryBytes = 200 * 1024;

/** Short durations so window expiry and auto-close happen within seconds of real time. */
const shortPolicy: Policy = { ...defaultPolicy, serviceWindowMs: 3_000, autoCloseAfterMs: 6_000, version: 1 };

/** Driven through the Temporal client against one conversation; every run of it is recorded. `policy`: the account's, else `shortPolicy`. */
type HarnessScenario = { name: string; policy?: Policy; drive(h: Harness): Promise<Conversation> };

/**
 * Driven through the HTTP API on the whole stack; answers the workflows to record, by label. With
 * `graph`, the worker sends WhatsApp messages to a fake Graph API started for the scenario.
 */
type ApiScenario = { name: string; graph?: true; drive(stack: Stack, graph: FakeGraph | undefined): Promise<Record<string, string>> };

const harnessScenarios: HarnessScenario[] = [
  {
    // Every row of SPEC section 2 the default policy has, in one run of one conversation: three episodes,
    // closed by a resolve and by inactivity, each reopened by the customer in the same run.
    name: 'full-lifecycle',
    async drive(h) {
      const c = h.conversation();
      await c.customerWritesAndWait('m-1');
      const run = await c.runId();
      await c.customerWritesAndWait('m-2');
      await c.act(replyUpdate, { actor: users.agent, text: 'Hi, how can I help?' });
      await c.act(assignUpdate, { actor: users.agent, assigneeId: users.agent2.userId });
      await expectRejected(c.act(replyUpdate, { actor: users.agent, text: 'not mine any more' }));
      await c.act(takeOverUpdate, { actor: users.manager });
      await c.act(templateUpdate, { actor: users.manager, template: { name: 'order_update', language: 'en', params: ['42'] } });
      await c.act(resolveUpdate, { actor: users.manager });
      // Closed: a free-form reply is rejected, a template is recorded, a customer message reopens.
      await expectRejected(c.act(replyUpdate, { actor: users.agent, text: 'one more thing' }));
      await c.act(templateUpdate, { actor: users.agent, template: { name: 'follow_up' } });
      await c.customerWritesAndWait('m-3');
      await c.act(replyUpdate, { actor: users.agent, text: 'Back again?' });
      // Window expiry, then auto-close for inactivity, then episode 3.
      await c.until((v) => v.status === 'closed' && v.closedReason === 'inactivity');
      await c.customerWritesAndWait('m-4');
      await c.customerWrites('m-4'); // a redelivery: recorded once
      // A policy that moves the open conversation's window end: the view is written again (view-follows-policy).
      await c.handle.signal(policyChangedSignal, { ...shortPolicy, serviceWindowMs: 4_000, autoCloseAfterMs: 60_000, version: 2 });
      await c.until((v) => Date.parse(v.windowExpiresAt!) - Date.parse(v.lastCustomerMessageAt!) === 4_000);
      await c.customerWritesAndWait('m-5');
      await sameRun(c, run);
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
    // Issue 28: a run started since 2026-12-07 asks one patch, the patch set, for the eleven before it:
    // a send, a close and a reopen in the run, and continue-as-new by a history budget of 60 events, whose
    // carried runs (the policy reload, the dedupe window) ask it once each too.
    name: 'patch-set',
    async drive(h) {
      const c = h.conversation({ limits: { historyEventBudget: 60 } });
      await c.customerWritesAndWait('m-1');
      await c.act(replyUpdate, { actor: users.agent, text: 'Hi!' });
      await c.act(resolveUpdate, { actor: users.manager });
      await c.customerWritesAndWait('m-2');
      for (let i = 3; i <= 14; i++) await c.customerWritesAndWait(`m-${i}`);
      await c.customerWrites('m-1');
      await c.act(replyUpdate, { actor: users.agent, text: 'Back again?' });
      return c;
    },
  },
  {
    // SPEC 9: the SLA state crosses continue-as-new (a history budget of 30 events): the breach of the
    // first response falls due in a later run and is recorded there; a reply then meets the next response.
    name: 'sla-carried',
    policy: applyPolicyPatch(shortPolicy, { sla: { normal: { firstResponse: '4s', nextResponse: '20s' } }, slaWarnBefore: '1s', autoCloseAfter: null }),
    async drive(h) {
      const c = h.conversation({ limits: { historyEventBudget: 30 } });
      await c.customerWritesAndWait('m-1');
      for (let i = 2; i <= 6; i++) await c.customerWritesAndWait(`m-${i}`);
      await c.until((v) => v.sla.breached.includes('firstResponse'));
      await c.act(replyUpdate, { actor: users.agent, text: 'Sorry for the wait.' });
      await c.customerWritesAndWait('m-7');
      await c.act(replyUpdate, { actor: users.agent, text: 'Done.' });
      return c;
    },
  },
  {
    // SPEC 9: out of office and answer-within across continue-as-new (a history budget of 30 events):
    // closed now (holidays around today), so the first message gets the system's reply and the later ones,
    // in the cooldown, none; a claim left unanswered returns to open in a later run.
    name: 'clocks-carried',
    policy: applyPolicyPatch(shortPolicy, {
      businessHours: { timezone: 'UTC', weekly: { mon: [['00:00', '24:00']] }, holidays: [-1, 0, 1].map((d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10)) },
      outOfOffice: { text: 'We are closed; back at 9:00.' },
      answerWithin: '3s',
      autoCloseAfter: null,
    }),
    async drive(h) {
      const c = h.conversation({ limits: { historyEventBudget: 30 } });
      await c.customerWritesAndWait('m-1');
      await c.act(assignUpdate, { actor: users.agent, assigneeId: users.agent.userId });
      for (let i = 2; i <= 5; i++) await c.customerWritesAndWait(`m-${i}`);
      await c.until((v) => v.status === 'open' && v.assigneeId === null);
      await c.act(replyUpdate, { actor: users.agent, text: 'Here now.' });
      return c;
    },
  },
  {
    // SPEC 9: a snooze crosses continue-as-new (a history budget of 30 events) and wakes on its timer in a
    // later run; the agent answers after the wake.
    name: 'snooze-carried',
    policy: applyPolicyPatch(shortPolicy, { autoCloseAfter: null, serviceWindow: '1h' }),
    async drive(h) {
      const c = h.conversation({ limits: { historyEventBudget: 30 } });
      await c.customerWritesAndWait('m-1');
      await c.act(replyUpdate, { actor: users.agent, text: 'Let me check.' });
      await c.act(snoozeUpdate, { actor: users.agent, until: '5s' });
      for (let i = 0; i < 8; i++) await c.act(tagsUpdate, { actor: users.agent, add: [`t${i}`], remove: [] });
      await c.until((v) => v.status === 'assigned');
      await c.act(replyUpdate, { actor: users.agent, text: 'Back with an answer.' });
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

const apiScenarios: ApiScenario[] = [
  {
    // SPEC section 4: round robin over three online agents of capacity 1, a queue that drains when a
    // resolve frees a slot, a release to the queue, an agent going offline (releaseOnOffline) and a new
    // agent coming online. The router's own history is recorded with the conversations'.
    name: 'routing',
    async drive(stack) {
      const api = new Api(stack, await createAccount(stack, { autoCloseAfter: '1h' }));
      await api.patchPolicy({ routing: { mode: 'round_robin', releaseOnOffline: true } });
      const keys: Record<string, string> = {};
      for (const id of ['rr-1', 'rr-2', 'rr-3']) keys[id] = await api.onlineAgent(id, { maxConcurrent: 1 });

      const convs: string[] = [];
      for (let i = 0; i < 5; i++) convs.push((await customerWrites(stack, api.account, { customer: newCustomer() })).conversationId);
      // Three routed (one each), two waiting in open, oldest first.
      await api.until(convs, (vs) => count(vs, 'assigned') === 3 && count(vs, 'open') === 2);
      const [third, fourth, fifth] = convs.slice(2) as [string, string, string];
      const holder = async (id: string) => (await api.view(id)).assigneeId as string;

      // A resolve frees a slot: the oldest waiting conversation gets it.
      const first = convs[0]!;
      const firstAgent = await holder(first);
      api.expectOk(await api.act(first, 'resolve', keys[firstAgent]!), 'resolve');
      await api.until([fourth], (vs) => vs[0]!.status === 'assigned' && vs[0]!.assigneeId === firstAgent);

      // A release to the queue: back to open and routed again; the freed slot goes to the older fifth.
      const second = convs[1]!;
      const secondAgent = await holder(second);
      api.expectOk(await api.act(second, 'release', keys[secondAgent]!), 'release');
      await api.until([fifth, second], (vs) => vs[0]!.status === 'assigned' && vs[1]!.status === 'open');

      // An agent goes offline: their conversation is released back to routing and waits.
      const thirdAgent = await holder(third);
      api.expectOk(await api.presence(thirdAgent, 'offline', keys[thirdAgent]!), 'offline');
      await api.until([third], (vs) => vs[0]!.status === 'open');

      // A new agent comes online and takes the oldest waiting conversation.
      await api.onlineAgent('rr-4', { maxConcurrent: 1 });
      await api.until([second, third], (vs) => count(vs, 'assigned') === 1 && vs.some((v) => v.assigneeId === 'rr-4'));

      return { ...Object.fromEntries(convs.map((id, i) => [`conv${i + 1}`, id])), router: routerWorkflowId(api.account.id) };
    },
  },
  {
    // Seed 004 (work_items) with timeouts of seconds: waiting, wrap-up, the waiting timeout, an agent
    // disconnecting (and reconnecting in time, then not), customers leaving before and after assignment.
    name: 'work-items',
    async drive(stack) {
      const api = new Api(stack, await createAccount(stack, { preset: 'work_items', waitingTimeout: '3s', agentReconnectTimeout: '2s' }));
      const { agent, agent2 } = api.account.keys;
      const claim = async (key: string, assigneeId: string) => {
        const customer = newCustomer();
        const { conversationId } = await customerWrites(stack, api.account, { customer });
        api.expectOk(await api.act(conversationId, 'assign', key, { assigneeId }), 'claim');
        return { customer, id: conversationId };
      };

      // assigned -> waiting -> assigned -> wrap_up -> closed (and the next run, carried).
      const lifecycle = await claim(agent, api.account.users.agent);
      api.expectStatus(await api.act(lifecycle.id, 'leave', agent), 'waiting');
      api.expectStatus(await api.act(lifecycle.id, 'revive', agent), 'assigned');
      api.expectStatus(await api.act(lifecycle.id, 'end', agent), 'wrap_up');
      api.expectStatus(await api.act(lifecycle.id, 'end', agent), 'closed');

      // waiting with no activity for waitingTimeout closes by itself (inactivity).
      const waiting = await claim(agent, api.account.users.agent);
      api.expectStatus(await api.act(waiting.id, 'leave', agent), 'waiting');

      // The agent disconnects and reconnects in time (kept), then disconnects for good (back to open).
      const disconnect = await claim(agent2, api.account.users.agent2);
      api.expectOk(await api.presence(api.account.users.agent2, 'offline', agent2), 'offline');
      await sleep(300);
      api.expectOk(await api.presence(api.account.users.agent2, 'online', agent2), 'online');
      await sleep(2_500);
      if ((await api.view(disconnect.id)).status !== 'assigned') throw new Error('a reconnect in time lost the work item');
      api.expectOk(await api.presence(api.account.users.agent2, 'offline', agent2), 'offline');

      // The customer leaves an assigned work item (wrap_up, then ended), and an open one (closed).
      const leftAssigned = await claim(agent, api.account.users.agent);
      api.expectOk(await api.customerEvent(leftAssigned.customer, { type: 'left' }), 'left');
      await api.until([leftAssigned.id], (vs) => vs[0]!.status === 'wrap_up');
      api.expectStatus(await api.act(leftAssigned.id, 'end', agent), 'closed');
      const leftOpen = newCustomer();
      const { conversationId: leftOpenId } = await customerWrites(stack, api.account, { customer: leftOpen });
      api.expectOk(await api.customerEvent(leftOpen, { type: 'left' }), 'left');

      await api.until([waiting.id, disconnect.id, leftOpenId], ([w, d, o]) => w!.closedReason === 'inactivity' && d!.status === 'open' && o!.closedReason === 'customer_left');
      return { lifecycle: lifecycle.id, 'waiting-timeout': waiting.id, disconnect: disconnect.id, 'left-assigned': leftAssigned.id, 'left-open': leftOpenId };
    },
  },
  {
    // Seed 002 (status_inbox): a flow with a customer message during it, ending by assigning a user;
    // tags added and removed; resolve with CSAT, answered (closed) or not (csat_timeout); broadcasts.
    name: 'status-inbox',
    async drive(stack) {
      const api = new Api(stack, await createAccount(stack, { preset: 'status_inbox' }));
      await api.patchPolicy({ csat: { timeout: '2s' } });
      const { agent, service } = api.account.keys;

      const customer = newCustomer();
      const { conversationId: flow } = await customerWrites(stack, api.account, { customer });
      api.expectStatus(await api.act(flow, 'flow', service, { action: 'start' }), 'in_flow');
      await customerWrites(stack, api.account, { customer, text: 'option 2' });
      api.expectStatus(await api.act(flow, 'flow', service, { action: 'end', assignTo: { userId: api.account.users.agent } }), 'assigned');
      api.expectOk(await api.act(flow, 'tags', agent, { add: ['vip', 'billing'] }), 'tags add');
      api.expectOk(await api.act(flow, 'tags', agent, { remove: ['billing'] }), 'tags remove');
      api.expectStatus(await api.act(flow, 'resolve', agent), 'resolved');
      api.expectOk(await api.customerEvent(customer, { type: 'csat', score: 9 }), 'csat');
      await api.until([flow], (vs) => vs[0]!.status === 'closed' && vs[0]!.csatScore === 9);

      // An unanswered survey closes by itself after the CSAT timeout.
      const { conversationId: timeout } = await customerWrites(stack, api.account, { customer: newCustomer() });
      api.expectStatus(await api.act(timeout, 'replies', agent, { text: 'On it' }), 'assigned');
      api.expectStatus(await api.act(timeout, 'resolve', agent), 'resolved');
      await api.until([timeout], (vs) => vs[0]!.closedReason === 'csat_timeout');

      // A broadcast reaches the closed conversations and skips the open one; with priority it reaches it.
      const { conversationId: open } = await customerWrites(stack, api.account, { customer: newCustomer() });
      const plain = await api.broadcast([flow, timeout, open], false);
      if (plain.body.sent?.length !== 2 || plain.body.skipped?.length !== 1) throw new Error(`broadcast: ${JSON.stringify(plain.body)}`);
      const priority = await api.broadcast([open], true);
      if (priority.body.sent?.length !== 1) throw new Error(`priority broadcast: ${JSON.stringify(priority.body)}`);
      // Tags on a closed conversation: adding still works (removing is locked, and never recorded).
      api.expectOk(await api.act(flow, 'tags', agent, { add: ['follow-up'] }), 'tags add on closed');
      return { 'flow-csat': flow, 'csat-timeout': timeout, 'broadcast-open': open };
    },
  },
  {
    // SPEC section 7: a WhatsApp channel; messages in through the signed webhook (text, then an image
    // that reopens), replies out to the (fake) Graph API with receipts back, a 131047 failure that
    // closes the window, a template after it, resolve; and a campaign send.
    name: 'whatsapp',
    graph: true,
    async drive(stack, graph) {
      const api = new Api(stack, await createAccount(stack));
      const { agent, service } = api.account.keys;
      const phoneNumberId = '114002873001456';
      const channel = '15550100001';
      const secrets = { accessToken: 'recording-token-0001', appSecret: 'recording-app-secret', verifyToken: 'recording-verify' };
      const { meta, customer, id } = await api.whatsappConversation(graph!, { channel, phoneNumberId, secrets }, { wamid: 'wamid.rec-1', text: 'Where is my order?' });
      const delivered = (messageId: string, status: string) => api.delivery(id, messageId, status);
      const first = await api.act(id, 'replies', agent, { text: 'Checking now.', replyTo: 'wamid.rec-1' });
      await delivered(first.body.messageId, 'read');
      graph!.behave('window_closed', 1);
      const refused = await api.act(id, 'replies', agent, { text: 'Still there?' });
      await delivered(refused.body.messageId, 'failed');
      const template = await api.act(id, 'templates', agent, { name: 'follow_up', language: 'en' });
      await delivered(template.body.messageId, 'read');
      api.expectStatus(await api.act(id, 'resolve', agent), 'closed');
      await meta(inboundImageBody({ phoneNumberId, from: customer, wamid: 'wamid.rec-2', mediaId: '1479537139650973' }));
      await api.until([id], (vs) => vs[0]!.status === 'open');
      const campaign = await stack.http.post(
        `/v1/accounts/${api.account.id}/campaign-messages`,
        { channel, customer: newCustomer(), campaignId: 'spring', template: { name: 'spring_offer', language: 'en' } },
        service,
      );
      if (campaign.status !== 202) throw new Error(`campaign: ${JSON.stringify(campaign.body)}`);
      await eventually(async () => ((await stack.client.workflow.getHandle(campaign.body.sendId).describe()).status.name === 'COMPLETED' ? true : undefined));
      return { conversation: id, campaign: campaign.body.sendId };
    },
  },
  {
    // Issue 28: send outcomes and receipts that no view shows are decided without a new version and
    // flushed light (the light-delivery patch): two replies sent, delivered and read, one of them
    // followed by a late receipt; a 131047 failure (a new version: an event, the window closes); a template.
    name: 'light-delivery',
    graph: true,
    async drive(stack, graph) {
      const api = new Api(stack, await createAccount(stack));
      const { agent } = api.account.keys;
      const phoneNumberId = '114002873001458';
      const channel = '15550100003';
      const secrets = { accessToken: 'recording-token-0003', appSecret: 'recording-app-secret-3', verifyToken: 'recording-verify-3' };
      const { customer, id } = await api.whatsappConversation(graph!, { channel, phoneNumberId, secrets }, { wamid: 'wamid.light-1', text: 'Is my order on its way?' });
      const delivery = (messageId: string, status: string) => api.delivery(id, messageId, status);
      const first = await api.act(id, 'replies', agent, { text: 'Yes, it left this morning.', replyTo: 'wamid.light-1' });
      const read = await delivery(first.body.messageId, 'read');
      // A late receipt changes nothing; a probe reply's own read says it has been decided.
      await graph!.sendStatus({ wamid: read.providerMessageId, status: 'delivered', recipient: customer, phoneNumberId });
      const second = await api.act(id, 'replies', agent, { text: 'It arrives tomorrow.' });
      await delivery(second.body.messageId, 'read');
      graph!.behave('window_closed', 1);
      const refused = await api.act(id, 'replies', agent, { text: 'Anything else?' });
      await delivery(refused.body.messageId, 'failed');
      const template = await api.act(id, 'templates', agent, { name: 'follow_up', language: 'en' });
      await delivery(template.body.messageId, 'read');
      return { conversation: id };
    },
  },
  {
    // Issue 24, item 4 (SPEC section 12): a conversation whose run was terminated continues from its
    // stored views. Recorded: the run started after the termination (loadRunStart finds the view), which
    // decides the next customer message and reply from the recovered seqs and version.
    name: 'recovered-run',
    async drive(stack) {
      const api = new Api(stack, await createAccount(stack));
      const { agent, admin } = api.account.keys;
      const customer = newCustomer();
      const { conversationId: id } = await customerWrites(stack, api.account, { customer });
      api.expectStatus(await api.act(id, 'replies', agent, { text: 'Hello!' }), 'assigned');
      api.expectStatus(await api.act(id, 'resolve', admin), 'closed');
      await stack.client.workflow.getHandle(id).terminate('recording: a run that ends without continuing');
      await customerWrites(stack, api.account, { customer, text: 'back again' });
      await api.until([id], (vs) => vs[0]!.status === 'open');
      api.expectStatus(await api.act(id, 'replies', agent, { text: 'Welcome back.' }), 'assigned');
      return { conversation: id };
    },
  },
  {
    // Issue 24, item 9: a policy change told by the account's policy-propagation workflow to its
    // conversations that are not closed (two open, one closed), then a second change.
    name: 'policy-propagation',
    async drive(stack) {
      const api = new Api(stack, await createAccount(stack));
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await customerWrites(stack, api.account, { customer: newCustomer() })).conversationId);
      api.expectStatus(await api.act(ids[0]!, 'resolve', api.account.keys.admin), 'closed');
      await api.patchPolicy({ serviceWindow: '2h' });
      const workflowId = `policy-propagation/${api.account.id}`;
      await stack.client.workflow.getHandle(workflowId).result();
      await api.patchPolicy({ serviceWindow: '3h' });
      await stack.client.workflow.getHandle(workflowId).result();
      return { propagation: workflowId, conversation: ids[1]! };
    },
  },
  {
    // SPEC 9: SLA clocks over the API with business hours open all week. `breach`: the first response
    // warns and breaches on the timer, a reply after it, the next response met, priority raised, resolved.
    // `shortened`: a policy change shortens the first-response target into the past, so it breaches at once.
    name: 'sla',
    async drive(stack) {
      const api = new Api(stack, await createAccount(stack));
      const allWeek = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['00:00', '24:00']]]));
      await api.patchPolicy({
        businessHours: { timezone: 'Europe/Berlin', weekly: allWeek },
        sla: { normal: { firstResponse: '3s', nextResponse: '1h', resolution: '1h' }, urgent: { firstResponse: '1h', nextResponse: '30m' } },
        slaWarnBefore: '1s',
      });
      const { agent, admin } = api.account.keys;
      const customer = newCustomer();
      const { conversationId: breach } = await customerWrites(stack, api.account, { customer });
      await api.until([breach], (vs) => vs[0]!.sla?.breached.includes('firstResponse') === true);
      api.expectStatus(await api.act(breach, 'replies', agent, { text: 'Sorry for the wait.' }), 'assigned');
      await customerWrites(stack, api.account, { customer, text: 'and my refund?' });
      await api.until([breach], (vs) => vs[0]!.sla?.nextResponseDueAt !== null);
      api.expectOk(await api.act(breach, 'priority', agent, { priority: 'urgent' }), 'priority');
      api.expectStatus(await api.act(breach, 'replies', agent, { text: 'Refunded.' }), 'assigned');
      api.expectStatus(await api.act(breach, 'resolve', admin), 'closed');

      await api.patchPolicy({ sla: { normal: { firstResponse: '1h' } } });
      const { conversationId: shortened } = await customerWrites(stack, api.account, { customer: newCustomer() });
      await api.until([shortened], (vs) => Date.parse(vs[0]!.sla?.firstResponseDueAt ?? '') - Date.now() > 60_000);
      await sleep(1_500);
      await api.patchPolicy({ sla: { normal: { firstResponse: '1s' } } });
      await api.until([shortened], (vs) => vs[0]!.sla?.breached.includes('firstResponse') === true);
      return { breach, shortened };
    },
  },
  {
    // SPEC 9's answer-or-reroute: `routed` goes to one of two online agents (round robin), is left
    // unanswered, returns to open (`unanswered`) and goes to the other, who answers; `manual` is claimed,
    // left unanswered and waits in open unassigned, then is claimed again and answered.
    name: 'answer-within',
    async drive(stack) {
      const api = new Api(stack, await createAccount(stack));
      await api.patchPolicy({ routing: { mode: 'round_robin' }, answerWithin: '2s' });
      const keys: Record<string, string> = {};
      for (const id of ['aw-1', 'aw-2']) keys[id] = await api.onlineAgent(id, { maxConcurrent: 5 });
      const { conversationId: routed } = await customerWrites(stack, api.account, { customer: newCustomer() });
      const [first] = await api.until([routed], (vs) => vs[0]!.status === 'assigned');
      const other = first!.assigneeId === 'aw-1' ? 'aw-2' : 'aw-1';
      await api.until([routed], (vs) => vs[0]!.status === 'assigned' && vs[0]!.assigneeId === other);
      api.expectStatus(await api.act(routed, 'replies', keys[other]!, { text: 'Here now.' }), 'assigned');

      const manual = new Api(stack, await createAccount(stack));
      await manual.patchPolicy({ answerWithin: '2s' });
      const { agent } = manual.account.keys;
      const { conversationId: claimed } = await customerWrites(stack, manual.account, { customer: newCustomer() });
      api.expectOk(await manual.act(claimed, 'assign', agent, { assigneeId: manual.account.users.agent }), 'claim');
      await manual.until([claimed], (vs) => vs[0]!.status === 'open' && vs[0]!.assigneeId === null);
      api.expectStatus(await manual.act(claimed, 'replies', agent, { text: 'Sorry, here I am.' }), 'assigned');
      return { routed, manual: claimed };
    },
  },
  {
    // SPEC 9's snooze: `timer` wakes at its time (snooze_ended), `customer` on the customer's message,
    // `unsnoozed` on unsnooze; `open` is snoozed by a supervisor from open and woken; `deactivated` loses its
    // assignee while snoozed and wakes to open.
    name: 'snooze',
    async drive(stack) {
      const api = new Api(stack, await createAccount(stack, { autoCloseAfter: '1h' }));
      const { agent, agent2, manager } = api.account.keys;
      const assigned = async (key: string) => {
        const customer = newCustomer();
        const { conversationId } = await customerWrites(stack, api.account, { customer });
        api.expectStatus(await api.act(conversationId, 'replies', key, { text: 'Looking into it.' }), 'assigned');
        return { customer, id: conversationId };
      };
      const timer = await assigned(agent);
      api.expectStatus(await api.act(timer.id, 'snooze', agent, { until: '2s' }), 'snoozed');
      const customer = await assigned(agent);
      api.expectStatus(await api.act(customer.id, 'snooze', agent, { until: '1h' }), 'snoozed');
      await customerWrites(stack, api.account, { customer: customer.customer, text: 'any news?' });
      const unsnoozed = await assigned(agent);
      api.expectStatus(await api.act(unsnoozed.id, 'snooze', agent, { until: 'window' }), 'snoozed');
      api.expectStatus(await api.act(unsnoozed.id, 'unsnooze', agent), 'assigned');
      const { conversationId: open } = await customerWrites(stack, api.account, { customer: newCustomer() });
      api.expectStatus(await api.act(open, 'snooze', manager, { until: '1h' }), 'snoozed');
      api.expectStatus(await api.act(open, 'unsnooze', manager), 'open');
      const deactivated = await assigned(agent2);
      api.expectStatus(await api.act(deactivated.id, 'snooze', agent2, { until: '1h' }), 'snoozed');
      api.expectOk(await stack.http.patch(`/v1/accounts/${api.account.id}/users/${api.account.users.agent2}`, { active: false }, stack.platformKey), 'deactivate');
      await api.until([deactivated.id], (vs) => vs[0]!.status === 'snoozed' && vs[0]!.assigneeId === null);
      api.expectStatus(await api.act(deactivated.id, 'unsnooze', manager), 'open');
      await api.until([timer.id, customer.id], (vs) => vs.every((v) => v.status === 'assigned'));
      return { timer: timer.id, customer: customer.id, unsnoozed: unsnoozed.id, open, deactivated: deactivated.id };
    },
  },
  {
    // SPEC 9's out of office: business hours closed now (today and the days around it are holidays); the
    // customer's first message gets the system's reply (delivered), the second within the cooldown none;
    // an agent answers; the policy then opens all week and a third message gets none.
    name: 'out-of-office',
    async drive(stack) {
      const api = new Api(stack, await createAccount(stack));
      const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
      const allWeek = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['00:00', '24:00']]]));
      await api.patchPolicy({ businessHours: { timezone: 'UTC', weekly: allWeek, holidays: [day(-1), day(0), day(1)] }, outOfOffice: { text: 'We are closed; we answer from 09:00.', cooldown: '1h' } });
      const customer = newCustomer();
      const { conversationId: id } = await customerWrites(stack, api.account, { customer });
      await customerWrites(stack, api.account, { customer, text: 'anyone?' });
      api.expectStatus(await api.act(id, 'replies', api.account.keys.agent, { text: 'Good morning!' }), 'assigned');
      await api.patchPolicy({ businessHours: { timezone: 'UTC', weekly: allWeek } });
      await sleep(1_000);
      await customerWrites(stack, api.account, { customer, text: 'thanks' });
      return { conversation: id };
    },
  },  {
    // SPEC 10's toolkit on WhatsApp: an internal note mentioning a user, a canned response, reply buttons,
    // an uploaded image with a caption, a template with a button component; the customer's image fetched
    // by its own workflow, and the customer's message marked read after the reply (markRead on_reply).
    name: 'toolkit',
    graph: true,
    async drive(stack, graph) {
      const api = new Api(stack, await createAccount(stack));
      const { agent, owner } = api.account.keys;
      const phoneNumberId = '114002873001457';
      const channel = '15550100002';
      const secrets = { accessToken: 'recording-token-0002', appSecret: 'recording-app-secret-2', verifyToken: 'recording-verify-2' };
      const { meta, customer, id } = await api.whatsappConversation(graph!, { channel, phoneNumberId, secrets }, { wamid: 'wamid.kit-1', text: 'Can you send the brochure?' });
      api.expectOk(await api.act(id, 'notes', agent, { text: 'Asking about the brochure, @manager can you check the price?', mentions: [api.account.users.manager] }), 'note');
      api.expectOk(
        await stack.http.request('PUT', `/v1/accounts/${api.account.id}/canned-responses/greet`, { key: owner, body: { title: 'Greeting', text: 'Hello! Happy to help.', scope: 'account' } }),
        'canned response',
      );
      const sentOut = (messageId: string) => api.delivery(id, messageId, 'sent', 'delivered', 'read');
      const canned = await api.act(id, 'replies', agent, { cannedResponse: 'greet', replyTo: 'wamid.kit-1' });
      api.expectOk(canned, 'canned reply');
      await sentOut(canned.body.messageId);
      await eventually(async () => ((await stack.client.workflow.getHandle(`read/${id}/wamid.kit-1`).describe()).status.name === 'COMPLETED' ? true : undefined));
      const buttons = await api.act(id, 'replies', agent, {
        interactive: { type: 'button', body: 'Which one?', buttons: [{ id: 'spring', title: 'Spring' }, { id: 'summer', title: 'Summer' }] },
      });
      api.expectOk(buttons, 'interactive reply');
      await sentOut(buttons.body.messageId);
      const upload = await fetch(`${stack.baseUrl}/v1/accounts/${api.account.id}/media`, {
        method: 'POST',
        headers: { authorization: `Bearer ${agent}`, 'content-type': 'image/png', 'x-filename': 'brochure.png' },
        body: new Uint8Array(Buffer.alloc(2048, 7)),
      });
      if (upload.status !== 201) throw new Error(`upload: ${upload.status} ${await upload.text()}`);
      const mediaId = ((await upload.json()) as { id: string }).id;
      const image = await api.act(id, 'replies', agent, { text: 'The brochure', media: { id: mediaId } });
      api.expectOk(image, 'media reply');
      await sentOut(image.body.messageId);
      const template = await api.act(id, 'templates', agent, {
        name: 'follow_up',
        language: 'en',
        components: [{ type: 'button', sub_type: 'quick_reply', index: 0, parameters: [{ type: 'payload', payload: 'yes' }] }],
      });
      api.expectOk(template, 'template');
      await sentOut(template.body.messageId);
      const providerMediaId = graph!.addMedia(Buffer.alloc(1024, 9), 'image/jpeg');
      await meta(inboundImageBody({ phoneNumberId, from: customer, wamid: 'wamid.kit-2', mediaId: providerMediaId, caption: 'this one?' }));
      const inbound = await eventually(async () => {
        const messages = (await stack.http.get(conversationPath(api.account, id, '/messages?limit=500'), agent)).body.messages as { providerMessageId?: string; content?: { media?: { id: string } } }[];
        return messages.find((m) => m.content?.media?.id?.startsWith('med_in_'))?.content?.media?.id;
      });
      const fetchId = `media/${api.account.id}/${inbound}`;
      await eventually(async () => ((await stack.client.workflow.getHandle(fetchId).describe()).status.name === 'COMPLETED' ? true : undefined));
      api.expectStatus(await api.act(id, 'resolve', agent), 'closed');
      return { conversation: id, read: `read/${id}/wamid.kit-1`, media: fetchId };
    },
  },
  {
    // Issue 28, goal 6: the account's WhatsApp webhook inbox. A body that cannot be fanned out (marked
    // failed), then three bodies posted through the webhook (two customers' messages, a receipt nobody
    // has), two bodies a run so the recording continues as new with a queue carried over.
    name: 'webhook-inbox',
    async drive(stack) {
      const api = new Api(stack, await createAccount(stack));
      const accountId = api.account.id;
      const phoneNumberId = '114002873001458';
      const channel = '15550100003';
      const secrets = { accessToken: 'recording-token-0003', appSecret: 'recording-app-secret-3', verifyToken: 'recording-verify-3' };
      api.expectOk(
        await stack.http.request('PUT', `/v1/accounts/${accountId}/channels/${channel}`, { key: api.account.keys.owner, body: { provider: 'whatsapp_cloud', phoneNumberId, ...secrets } }),
        'channel',
      );
      const workflowId = webhookInboxWorkflowId(accountId);
      const unreadable = `${accountId}/unreadable-recording`;
      await collections(stack.db).inboundBodies.insertOne({ _id: unreadable, accountId, provider: 'whatsapp_cloud', raw: '{"entry": [', routes: [{ phoneNumberId, channel }], receivedAt: new Date(), state: 'pending' });
      await stack.client.workflow.start(webhookInboxWorkflowType, { workflowId, taskQueue: stack.taskQueue, args: [{ accountId, bodiesPerRun: 2 }] });
      await stack.client.workflow.getHandle(workflowId).signal(bodyReceivedSignal, { bodyId: unreadable });
      const [a, b] = [newCustomer(), newCustomer()];
      const message = (from: string, wamid: string) => inboundTextBody({ phoneNumberId, from, wamid, text: `text of ${wamid}` }).entry[0].changes[0].value.messages[0];
      const post = async (body: unknown) => {
        const { rawBody, headers } = signedMetaRequest(body, secrets.appSecret);
        api.expectOk(await stack.http.request('POST', `/webhooks/whatsapp/${accountId}`, { body: rawBody, headers }), 'webhook');
      };
      await post(metaWebhookBody({ phoneNumberId, messages: [message(a, 'wamid.inbox-1'), message(b, 'wamid.inbox-2'), message(a, 'wamid.inbox-3')] }));
      await post(statusWebhookBody({ phoneNumberId, wamid: 'wamid.nobody-sent-this', status: 'delivered', recipient: a }));
      await post(metaWebhookBody({ phoneNumberId, messages: [message(b, 'wamid.inbox-4')] }));
      const bodies = collections(stack.db).inboundBodies;
      await eventually(async () => ((await bodies.countDocuments({ accountId, state: { $in: ['done', 'failed'] } })) === 4 ? true : undefined), { timeoutMs: 60_000 });
      return { inbox: workflowId };
    },
  },
];

type View = {
  status: string;
  assigneeId: string | null;
  closedReason: string | null;
  csatScore?: number | null;
  sla?: { firstResponseDueAt: string | null; nextResponseDueAt: string | null; breached: string[] };
};
const count = (views: View[], status: string) => views.filter((v) => v.status === status).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The few API calls the scenarios make, as one account, failing loudly on anything unexpected. */
class Api {
  constructor(
    readonly stack: Stack,
    readonly account: Account,
  ) {}

  /**
   * Configures a WhatsApp channel of the account against the fake Graph API (its status webhook pointed
   * back here); answers a function that posts a body to the account's webhook signed as Meta would.
   */
  async whatsappChannel(
    graph: FakeGraph,
    options: { channel: string; phoneNumberId: string; secrets: { accessToken: string; appSecret: string; verifyToken: string } },
  ): Promise<(body: unknown) => Promise<void>> {
    const { secrets } = options;
    const { id } = this.account;
    this.expectOk(
      await this.stack.http.request('PUT', `/v1/accounts/${id}/channels/${options.channel}`, {
        key: this.account.keys.owner,
        body: { provider: 'whatsapp_cloud', phoneNumberId: options.phoneNumberId, ...secrets },
      }),
      'channel',
    );
    graph.setStatusWebhook({ url: `${this.stack.baseUrl}/webhooks/whatsapp/${id}`, appSecret: secrets.appSecret });
    return async (body: unknown) => {
      const { rawBody, headers } = signedMetaRequest(body, secrets.appSecret);
      this.expectOk(await this.stack.http.request('POST', `/webhooks/whatsapp/${id}`, { body: rawBody, headers }), 'webhook');
    };
  }

  /** Waits until a message of conversation `id` has a delivery in one of `statuses`; answers the delivery. */
  delivery(id: string, messageId: string, ...statuses: string[]): Promise<{ status: string; providerMessageId: string }> {
    return eventually(async () => {
      const messages = (await this.stack.http.get(conversationPath(this.account, id, '/messages?limit=500'), this.account.keys.agent)).body.messages as {
        messageId: string;
        delivery?: { status: string; providerMessageId: string };
      }[];
      const delivery = messages.find((m) => m.messageId === messageId)?.delivery;
      return delivery && statuses.includes(delivery.status) ? delivery : undefined;
    });
  }

  /** A WhatsApp channel (`whatsappChannel`) and a new customer's first message through it, once the conversation is open. */
  async whatsappConversation(
    graph: FakeGraph,
    options: Parameters<Api['whatsappChannel']>[1],
    first: { wamid: string; text: string },
  ): Promise<{ meta: (body: unknown) => Promise<void>; customer: string; id: string }> {
    const meta = await this.whatsappChannel(graph, options);
    const customer = newCustomer();
    const id = `conv:${this.account.id}:${options.channel}:${customer}`;
    await meta(inboundTextBody({ phoneNumberId: options.phoneNumberId, from: customer, name: 'Priya Sharma', ...first }));
    await this.until([id], (vs) => vs[0]!.status === 'open');
    return { meta, customer, id };
  }

  async patchPolicy(patch: Record<string, unknown>): Promise<void> {
    this.expectOk(await this.stack.http.patch(`/v1/accounts/${this.account.id}/policy`, patch, this.stack.platformKey), 'policy');
  }

  /** Adds an agent who is online at once, so routing may push work to them; answers their API key. */
  async onlineAgent(id: string, profile: Record<string, unknown> = {}): Promise<string> {
    const created = await this.stack.http.post(`/v1/accounts/${this.account.id}/users`, { id, name: id, role: 'agent', ...profile }, this.stack.platformKey);
    if (created.status !== 201) throw new Error(`user ${id}: ${created.status} ${JSON.stringify(created.body)}`);
    this.expectOk(await this.presence(id, 'online', created.body.apiKey), 'online');
    return created.body.apiKey as string;
  }

  presence(userId: string, status: string, key: string) {
    return this.stack.http.request('PUT', `/v1/accounts/${this.account.id}/users/${userId}/presence`, { key, body: { status } });
  }

  act(id: string, action: string, key: string, body: unknown = {}) {
    return this.stack.http.post(conversationPath(this.account, id, `/${action}`), body, key);
  }

  customerEvent(customer: string, event: { type: 'left' } | { type: 'csat'; score: number }) {
    return this.stack.http.post(`/v1/accounts/${this.account.id}/customer-events`, { channel: 'wa-main', customer, ...event }, this.account.keys.service);
  }

  broadcast(conversationIds: string[], priority: boolean) {
    return this.stack.http.post(`/v1/accounts/${this.account.id}/broadcasts`, { template: { name: 'news' }, conversationIds, priority }, this.account.keys.service);
  }

  async view(id: string): Promise<View> {
    const res = await this.stack.http.get(conversationPath(this.account, id), this.account.keys.owner);
    if (res.status !== 200) throw new Error(`view ${id}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as View;
  }

  /** Polls the views until `check` holds for them together. */
  until(ids: string[], check: (views: View[]) => boolean): Promise<View[]> {
    return eventually(
      async () => {
        const views = await Promise.all(ids.map((id) => this.view(id)));
        return check(views) ? views : undefined;
      },
      { timeoutMs: 30_000 },
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; views: ${JSON.stringify(await Promise.all(ids.map((id) => this.view(id).catch(() => null))))}`);
    });
  }

  expectOk(res: { status: number; body: unknown }, what: string): void {
    if (res.status < 200 || res.status > 299) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  }

  expectStatus(res: { status: number; body: { conversation?: { status?: string } } }, status: string): void {
    this.expectOk(res, status);
    if (res.body.conversation?.status !== status) throw new Error(`expected ${status}, got ${JSON.stringify(res.body)}`);
  }
}

async function expectRejected(action: Promise<unknown>): Promise<void> {
  const outcome = await action.then(
    () => 'accepted',
    () => 'rejected',
  );
  if (outcome !== 'rejected') throw new Error('an action the lifecycle must reject was accepted');
}

/** Episodes close and reopen in one run (patch 'close-in-run'): the recording says so, or fails. */
async function sameRun(c: Conversation, runId: string): Promise<void> {
  const now = await c.runId();
  if (now !== runId) throw new Error(`the conversation continued as new (run ${runId}, now ${now}); this scenario records closes within one run`);
}

type HistoryJson = {
  events: {
    eventType: string;
    workflowExecutionStartedEventAttributes?: { continuedExecutionRunId?: string };
  }[];
};

/**
 * A running workflow's history is cut between workflow tasks: once the worker answered the last one
 * (the commands of its answer follow WORKFLOW_TASK_COMPLETED), or once the run closed.
 */
function resting(json: HistoryJson): boolean {
  const types = json.events.map((e) => e.eventType);
  if (types.some((t) => /WORKFLOW_EXECUTION_(COMPLETED|FAILED|TIMED_OUT|TERMINATED|CANCELED|CONTINUED_AS_NEW)$/.test(t))) return true;
  const lastTaskEvent = [...types].reverse().find((t) => t.includes('WORKFLOW_TASK_'));
  return lastTaskEvent?.endsWith('WORKFLOW_TASK_COMPLETED') ?? false;
}

async function restingHistory(client: Client, workflowId: string, runId: string): Promise<HistoryJson> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const json: HistoryJson = JSON.parse(historyToJSON(await client.workflow.getHandle(workflowId, runId).fetchHistory()));
    if (resting(json)) return json;
    if (Date.now() > deadline) throw new Error(`${workflowId} (run ${runId}) is still in a workflow task after 15 s`);
    await sleep(100);
  }
}

/**
 * Writes every run of a workflow, first to latest: from the latest run, back along the
 * continue-as-new links of each run's started event.
 */
async function recordRuns(client: Client, workflowId: string, prefix: string): Promise<void> {
  const runs: HistoryJson[] = [];
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const json = await restingHistory(client, workflowId, runId);
    runs.unshift(json);
    runId = json.events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  for (const [i, json] of runs.entries()) {
    const file = path.join(historiesDir, `${prefix}.run${i + 1}.json`);
    fs.writeFileSync(file, JSON.stringify(json, null, 1) + '\n');
    const size = fs.statSync(file).size;
    console.log(`${path.relative(process.cwd(), file)}: ${json.events.length} events, ${size} bytes`);
    if (size > maxHistoryBytes) throw new Error(`${file} is ${size} bytes, over the ${maxHistoryBytes} budget: shorten the scenario`);
  }
  await client.workflow
    .getHandle(workflowId)
    .terminate('recorded')
    .catch(() => undefined);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const selected = (name: string) => only.length === 0 || only.includes(name);
  const tools = await ensureTools({ log: (line) => process.stderr.write(`[tools] ${line}\n`) });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'convoflow-record-'));
  const [temporal, ferretdb] = await Promise.all([
    startTemporalDevServer({ binary: tools.temporal, headless: true, logFile: path.join(scratch, 'temporal.log') }),
    startFerretDB({ binary: tools.ferretdb, dataDir: path.join(scratch, 'ferretdb'), logFile: path.join(scratch, 'ferretdb.log') }),
  ]);
  const servers: Pick<TestServers, 'temporalAddress' | 'mongoUri' | 'temporalTestServer'> = { temporalAddress: temporal.address, mongoUri: ferretdb.uri, temporalTestServer: tools.temporalTestServer };
  try {
    fs.mkdirSync(historiesDir, { recursive: true });
    const ours = (file: string) => file.endsWith('.json') && selected(file.split('.')[0]!);
    for (const file of fs.readdirSync(historiesDir)) if (ours(file)) fs.rmSync(path.join(historiesDir, file));
    for (const scenario of harnessScenarios.filter((s) => selected(s.name))) {
      const h = await startHarness({ server: 'dev', policy: scenario.policy ?? shortPolicy, servers });
      try {
        const c = await scenario.drive(h);
        await recordRuns(c.client, c.id, scenario.name);
      } finally {
        await h.stop();
      }
    }
    for (const scenario of apiScenarios.filter((s) => selected(s.name))) {
      const graph = scenario.graph ? await startFakeGraph({ autoReceipts: ['sent', 'delivered', 'read'] }) : undefined;
      const stack = await startStack(servers, 'rec', { whatsappGraphUrl: graph?.url });
      try {
        const started = Date.now();
        const workflows = await scenario.drive(stack, graph);
        console.log(`${scenario.name}: driven in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        for (const [label, workflowId] of Object.entries(workflows)) await recordRuns(stack.client, workflowId, `${scenario.name}.${label}`);
      } finally {
        await stack.stop();
        await graph?.close();
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
