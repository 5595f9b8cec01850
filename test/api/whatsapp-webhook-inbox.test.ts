import { randomUUID } from 'node:crypto';
import { MongoNetworkError } from 'mongodb';
import type { FakeGraph } from '../support/fake-graph';
import { inboundTextBody, metaWebhookBody, signedMetaRequest, startFakeGraph } from '../support/fake-graph';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, newCustomer } from '../support/scenario';
import { eventually, useStack } from '../support/stack';
import { inboundBodyId } from '../../store/inbound-bodies';
import { bodyReceivedSignal, webhookInboxWorkflowId, webhookInboxWorkflowType } from '../../workflows/webhook-inbox/messages';

/**
 * Issue 28, goal 6 (SPEC section 7): a WhatsApp webhook body is kept (`inbound_bodies`) and handed to the
 * account's inbox workflow before Meta is answered; the fan-out to conversations runs after the answer,
 * bodies in arrival order. Everything through the public HTTP API; the worker is stopped where a test
 * must show that the answer did not wait for the fan-out.
 */
const secrets = { accessToken: `EAAG-token-${randomUUID()}`, appSecret: `app-secret-${randomUUID()}`, verifyToken: `verify-${randomUUID()}` };
const phoneNumberId = '114002873009901';
const channel = '15550109901';

let fake: FakeGraph;
beforeAll(async () => {
  fake = await startFakeGraph();
});
afterAll(async () => {
  await fake?.close();
});

const env = useStack(() => ({ whatsappGraphUrl: fake.url }));
let account: Account;

beforeAll(async () => {
  account = await createAccount(env.stack);
  const put = await env.stack.http.request('PUT', `/v1/accounts/${account.id}/channels/${channel}`, {
    key: account.keys.owner,
    body: { provider: 'whatsapp_cloud', phoneNumberId, ...secrets },
  });
  if (put.status !== 200) throw new Error(`channel not configured: ${JSON.stringify(put.body)}`);
});

/** One webhook body with a message from each `(customer, wamid)`, in that order, serialized once. */
function body(items: { customer: string; wamid: string }[]): { rawBody: string; headers: Record<string, string> } {
  const messages = items.map((i) => inboundTextBody({ phoneNumberId, from: i.customer, wamid: i.wamid, text: `text of ${i.wamid}` }).entry[0].changes[0].value.messages[0]);
  return signedMetaRequest(metaWebhookBody({ phoneNumberId, messages }), secrets.appSecret);
}

const post = (req: { rawBody: string; headers: Record<string, string> }) => env.stack.http.request('POST', `/webhooks/whatsapp/${account.id}`, { body: req.rawBody, headers: req.headers });
const conversationOf = (customer: string) => `conv:${account.id}:${channel}:${customer}`;
const bodies = () => env.stack.apiDeps.collections.inboundBodies;

async function messageIds(customer: string): Promise<string[]> {
  const res = await env.stack.http.get(conversationPath(account, conversationOf(customer), '/messages?limit=500'), account.keys.agent);
  return res.status === 200 ? (res.body.messages as { messageId: string; direction: string }[]).filter((m) => m.direction === 'inbound').map((m) => m.messageId) : [];
}

/** Waits until every customer's timeline holds exactly `want(customer)`, in that order. */
async function timelinesAre(customers: string[], want: (customer: string) => string[], timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      for (const c of customers) if ((await messageIds(c)).length < want(c).length) return undefined;
      return true;
    },
    { timeoutMs, intervalMs: 250 },
  );
  for (const c of customers) expect([c, await messageIds(c)]).toEqual([c, want(c)]);
}

async function workflowExists(workflowId: string): Promise<boolean> {
  try {
    await env.stack.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch {
    return false;
  }
}

describe('the WhatsApp webhook keeps a body, answers, then fans it out', () => {
  test('two 100-message bodies are answered before any fan-out, and every item lands once, in order per conversation across the bodies', async () => {
    const customers = Array.from({ length: 25 }, () => newCustomer());
    // Body A: messages 0-3 of each customer, round robin; body B: messages 4-7. 100 items each.
    const items = (from: number) => Array.from({ length: 4 }, (_, k) => customers.map((customer) => ({ customer, wamid: `wamid.order-${customer}-${from + k}` }))).flat();
    const a = body(items(0));
    const b = body(items(4));
    await env.stack.stopWorker();
    try {
      const answers = [await post(a), await post(b)];
      for (const res of answers) {
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ messages: 100, receipts: 0, unmatchedReceipts: null, unknownPhoneNumberIds: 0, ignored: 0, templateStatuses: 0 });
      }
      // No worker: nothing was fanned out, yet both bodies are kept and the inbox knows them.
      expect(await workflowExists(conversationOf(customers[0]!))).toBe(false);
      const kept = await bodies().find({ accountId: account.id }, { projection: { state: 1 } }).toArray();
      expect(kept.map((d) => d.state)).toEqual(['pending', 'pending']);
      const inbox = await env.stack.client.workflow.getHandle(webhookInboxWorkflowId(account.id)).describe();
      expect(inbox.type).toBe(webhookInboxWorkflowType);
    } finally {
      await env.stack.startWorker();
    }
    await timelinesAre(customers, (c) => Array.from({ length: 8 }, (_, k) => `wamid.order-${c}-${k}`), 120_000);
    const done = await eventually(async () => {
      const docs = await bodies().find({ accountId: account.id }).toArray();
      return docs.length === 2 && docs.every((d) => d.state === 'done') ? docs : undefined;
    });
    for (const d of done) expect(d.outcome).toEqual({ messages: 100, receipts: 0, unmatchedReceipts: 0 });
  }, 180_000);

  test('a body Meta delivers again, while pending and after it is done, is applied once', async () => {
    const customer = newCustomer();
    const req = body([
      { customer, wamid: `wamid.again-${customer}-0` },
      { customer, wamid: `wamid.again-${customer}-1` },
    ]);
    const [first, second] = await Promise.all([post(req), post(req)]);
    expect([first.status, second.status]).toEqual([200, 200]);
    await timelinesAre([customer], () => [`wamid.again-${customer}-0`, `wamid.again-${customer}-1`]);
    const id = inboundBodyId(account.id, Buffer.from(req.rawBody));
    await eventually(async () => ((await bodies().findOne({ _id: id }))?.state === 'done' ? true : undefined));
    expect((await post(req)).status).toBe(200);
    // The later message of a new body lands after it; the redelivered one added nothing meanwhile.
    expect((await post(body([{ customer, wamid: `wamid.again-${customer}-2` }]))).status).toBe(200);
    await timelinesAre([customer], () => [0, 1, 2].map((k) => `wamid.again-${customer}-${k}`));
    expect(await bodies().countDocuments({ _id: id })).toBe(1);
  });

  test('a wrong signature answers 401 and a body that is not WhatsApp 400, as before, and nothing is kept', async () => {
    const before = await bodies().countDocuments({ accountId: account.id });
    const req = body([{ customer: newCustomer(), wamid: `wamid.${randomUUID()}` }]);
    const forged = await post({ rawBody: req.rawBody, headers: { ...req.headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } });
    expect([forged.status, forged.body.error.code]).toEqual([401, 'invalid_signature']);
    const notWhatsApp = signedMetaRequest({ object: 'page', entry: 'nope' }, secrets.appSecret);
    const bad = await post(notWhatsApp);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
    expect(await bodies().countDocuments({ accountId: account.id })).toBe(before);
  });

  test('the store down answers 503 and Temporal down after the insert answers 503; the redeliveries land every message once', async () => {
    const customer = newCustomer();
    const storeDown = body([{ customer, wamid: `wamid.down-${customer}-0` }]);
    const target = bodies();
    const original = target.insertOne;
    target.insertOne = (async () => {
      target.insertOne = original;
      throw new MongoNetworkError('connection reset (test)');
    }) as never;
    const refused = await post(storeDown);
    expect([refused.status, refused.body.error.code]).toEqual([503, 'unavailable']);
    expect(await workflowExists(conversationOf(customer))).toBe(false);

    const temporalDown = body([{ customer, wamid: `wamid.down-${customer}-1` }]);
    const gateway = env.stack.apiDeps.conversations;
    const signal = gateway.webhookBodyReceived;
    gateway.webhookBodyReceived = async () => {
      gateway.webhookBodyReceived = signal;
      throw Object.assign(new Error('14 UNAVAILABLE: connection refused (test)'), { code: 14 });
    };
    const unsignalled = await post(temporalDown);
    expect([unsignalled.status, unsignalled.body.error.code]).toEqual([503, 'unavailable']);
    // Kept, but nobody was told: Meta's redelivery tells the inbox.
    expect((await bodies().findOne({ _id: inboundBodyId(account.id, Buffer.from(temporalDown.rawBody)) }))?.state).toBe('pending');

    expect((await post(storeDown)).status).toBe(200);
    expect((await post(temporalDown)).status).toBe(200);
    await timelinesAre([customer], () => [0, 1].map((k) => `wamid.down-${customer}-${k}`));
  });

  test('a body whose fan-out cannot succeed is marked failed with its reason, later bodies go on, and signalling its id again replays it', async () => {
    const customer = newCustomer();
    const good = body([{ customer, wamid: `wamid.fail-${customer}-0` }]);
    const bodyId = `${account.id}/unreadable-${randomUUID()}`;
    await bodies().insertOne({ _id: bodyId, accountId: account.id, provider: 'whatsapp_cloud', raw: '{"object": "whatsapp_business_account", "entry": [', routes: [{ phoneNumberId, channel }], receivedAt: new Date(), state: 'pending' });
    const inbox = () =>
      env.stack.client.workflow.signalWithStart(webhookInboxWorkflowType, {
        workflowId: webhookInboxWorkflowId(account.id),
        taskQueue: env.stack.taskQueue,
        args: [{ accountId: account.id }],
        signal: bodyReceivedSignal,
        signalArgs: [{ bodyId }],
      });
    await inbox();
    expect((await post(good)).status).toBe(200);
    await timelinesAre([customer], () => [`wamid.fail-${customer}-0`]);
    const failed = await eventually(async () => {
      const doc = await bodies().findOne({ _id: bodyId });
      return doc?.state === 'failed' ? doc : undefined;
    });
    expect(failed.reason).toMatch(/JSON|Unexpected|unreadable/i);

    // The operator's replay: the body (here repaired by hand) is signalled again by its id.
    const repaired = JSON.parse(body([{ customer, wamid: `wamid.fail-${customer}-1` }]).rawBody);
    await bodies().updateOne({ _id: bodyId }, { $set: { raw: JSON.stringify(repaired) } });
    await inbox();
    await timelinesAre([customer], () => [0, 1].map((k) => `wamid.fail-${customer}-${k}`));
    await eventually(async () => ((await bodies().findOne({ _id: bodyId }))?.state === 'done' ? true : undefined));
  });
});
