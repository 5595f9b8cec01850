import { randomUUID } from 'node:crypto';
import type { FakeGraph, FakeTemplate } from '../support/fake-graph';
import { signedMetaRequest, startFakeGraph, templateStatusWebhookBody } from '../support/fake-graph';
import type { Account } from '../support/scenario';
import { conversationApi, conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import { useStack } from '../support/stack';

/**
 * SPEC section 10, "Templates", end to end: a channel's wabaId, the registry synced from a fake Graph
 * API (real HTTP on loopback, paged), listed to agents, kept current by Meta's signed status webhook,
 * and every template send checked against it before anything reaches a conversation or Graph.
 */
const secrets = { accessToken: `EAAG-token-${randomUUID()}`, appSecret: `app-secret-${randomUUID()}`, verifyToken: `verify-${randomUUID()}` };
const phoneNumberId = '114002873001456';
const wabaId = '102290129340398';
const channel = 'wa-main';

const orderUpdate: FakeTemplate = {
  id: '5501',
  name: 'order_update',
  language: 'en_US',
  status: 'APPROVED',
  category: 'UTILITY',
  components: [
    { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}', example: { header_text: ['4821'] } },
    { type: 'BODY', text: 'Hi {{1}}, your order {{2}} is on its way.', example: { body_text: [['Priya', '4821']] } },
    { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}', example: ['https://shop.example/track/4821'] }] },
  ],
};
const welcome: FakeTemplate = { id: '5502', name: 'welcome', language: 'en_US', status: 'APPROVED', category: 'MARKETING', components: [{ type: 'BODY', text: 'Welcome!' }] };
const welcomeEs: FakeTemplate = { ...welcome, id: '5503', language: 'es', components: [{ type: 'BODY', text: '¡Bienvenido!' }] };
const pending: FakeTemplate = { id: '5504', name: 'spring_sale', language: 'en_US', status: 'PENDING', category: 'MARKETING', components: [{ type: 'BODY', text: 'Sale' }] };

let fake: FakeGraph;
beforeAll(async () => {
  fake = await startFakeGraph();
});
afterAll(async () => {
  await fake?.close();
});

const env = useStack(() => ({ whatsappGraphUrl: fake.url }));
const api = conversationApi(env);
let account: Account;

const templatesPath = () => `/v1/accounts/${account.id}/templates`;
const sync = (key: string) => env.stack.http.post(`${templatesPath()}/sync`, {}, key);

beforeAll(async () => {
  account = await createAccount(env.stack);
  const put = await env.stack.http.request('PUT', `/v1/accounts/${account.id}/channels/${channel}`, {
    key: account.keys.owner,
    body: { provider: 'whatsapp_cloud', phoneNumberId, wabaId, ...secrets },
  });
  if (put.status !== 200) throw new Error(`channel not configured: ${JSON.stringify(put.body)}`);
  fake.setStatusWebhook({ url: `${env.stack.baseUrl}/webhooks/whatsapp/${account.id}`, appSecret: secrets.appSecret });
});

beforeEach(() => {
  fake.reset();
  // Two a page: four templates take two pages and a cursor.
  fake.setTemplates(wabaId, [orderUpdate, welcome, welcomeEs, pending], { pageSize: 2 });
});

/** A conversation on the WhatsApp channel, with the customer's message recorded. */
async function conversation(): Promise<{ conversationId: string; customer: string }> {
  const customer = newCustomer();
  const { conversationId } = await customerWrites(env.stack, account, { customer, channel });
  return { conversationId, customer };
}

const timeline = async (conversationId: string): Promise<any[]> => (await env.stack.http.get(conversationPath(account, conversationId, '/messages?limit=500'), account.keys.agent)).body.messages;

describe('the channel names its WhatsApp Business Account', () => {
  test('wabaId is shown with the channel, kept when a later PUT leaves it out, and must be digits', async () => {
    const shown = await env.stack.http.get(`/v1/accounts/${account.id}/channels/${channel}`, account.keys.owner);
    expect(shown.body).toMatchObject({ wabaId, phoneNumberId });
    const kept = await env.stack.http.request('PUT', `/v1/accounts/${account.id}/channels/${channel}`, { key: account.keys.owner, body: { provider: 'whatsapp_cloud', phoneNumberId } });
    expect(kept.body).toMatchObject({ wabaId });
    const bad = await env.stack.http.request('PUT', `/v1/accounts/${account.id}/channels/${channel}`, { key: account.keys.owner, body: { provider: 'whatsapp_cloud', phoneNumberId, wabaId: '10229x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ path: 'wabaId' })] });
  });
});

describe('sync and list', () => {
  test("owners and admins sync every page with the channel's token; any user lists name, language, category, status and components", async () => {
    expect((await sync(account.keys.agent)).status).toBe(403);
    expect((await sync(account.keys.manager)).status).toBe(403);
    const synced = await sync(account.keys.admin);
    expect(synced.status).toBe(200);
    expect(synced.body).toEqual({ synced: 4, removed: 0, complete: true, skipped: 0 });

    const listings = fake.requests.filter((r) => r.path === `/v21.0/${wabaId}/message_templates`);
    expect(listings).toHaveLength(2);
    expect(listings.every((r) => r.method === 'GET' && r.token === secrets.accessToken)).toBe(true);
    expect(listings[0]!.query.after).toBeUndefined();
    expect(listings[1]!.query.after).toEqual(expect.any(String));

    const list = await env.stack.http.get(templatesPath(), account.keys.agent);
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: any) => `${t.name}/${t.language}/${t.status}`)).toEqual(['order_update/en_US/APPROVED', 'spring_sale/en_US/PENDING', 'welcome/en_US/APPROVED', 'welcome/es/APPROVED']);
    expect(list.body.items[0]).toEqual({
      name: 'order_update',
      language: 'en_US',
      category: 'UTILITY',
      status: 'APPROVED',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
        { type: 'BODY', text: 'Hi {{1}}, your order {{2}} is on its way.' },
        { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}' }] },
      ],
    });
    const approved = await env.stack.http.get(`${templatesPath()}?status=APPROVED`, account.keys.agent);
    expect(approved.body.items.map((t: any) => t.name)).toEqual(['order_update', 'welcome', 'welcome']);
  });

  test('a template deleted at Meta leaves the registry at the next sync', async () => {
    fake.setTemplates(wabaId, [orderUpdate, welcome, welcomeEs], { pageSize: 2 });
    const synced = await sync(account.keys.owner);
    expect(synced.body).toMatchObject({ synced: 3, removed: 1, complete: true });
    const list = await env.stack.http.get(templatesPath(), account.keys.agent);
    expect(list.body.items.map((t: any) => t.name)).not.toContain('spring_sale');
  });

  test('Graph failing answers 503, Graph refusing the token 409; either leaves the registry as it was, saying nothing of the token', async () => {
    expect((await sync(account.keys.owner)).status).toBe(200);
    const before = (await env.stack.http.get(templatesPath(), account.keys.agent)).body.items;
    fake.behave('server_error', 1);
    const failed = await sync(account.keys.owner);
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('unavailable');
    expect(failed.body.error.message).toContain('HTTP 500');
    fake.behave('invalid_token', 1);
    const refused = await sync(account.keys.owner);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('HTTP 401') });
    for (const answer of [failed, refused]) expect(JSON.stringify(answer.body)).not.toContain(secrets.accessToken);
    expect((await env.stack.http.get(templatesPath(), account.keys.agent)).body.items).toEqual(before);
  });

  test('an account with no channel naming a wabaId answers 409 conflict', async () => {
    const other = await createAccount(env.stack);
    const res = await env.stack.http.post(`/v1/accounts/${other.id}/templates/sync`, {}, other.keys.owner);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
  });
});

describe('sends checked against the registry', () => {
  beforeEach(async () => {
    fake.setTemplates(wabaId, [orderUpdate, welcome, welcomeEs, pending], { pageSize: 2 });
    expect((await sync(account.keys.owner)).status).toBe(200);
  });

  test('a known approved template goes out with its header, body and button parameters', async () => {
    const { conversationId, customer } = await conversation();
    const sent = await api.act(account, conversationId, 'templates', account.keys.agent, {
      name: 'order_update',
      params: ['Priya', '4821'],
      components: [
        { type: 'header', parameters: [{ type: 'text', text: '4821' }] },
        { type: 'button', sub_type: 'url', index: 0, parameters: [{ type: 'text', text: '4821' }] },
      ],
    });
    expect(sent.status).toBe(200);
    const request = await fake.waitFor((r) => r.body?.to === `+${customer}` && r.body?.type === 'template');
    expect(request.body.template).toEqual({
      name: 'order_update',
      language: { code: 'en_US' },
      components: [
        { type: 'body', parameters: [{ type: 'text', text: 'Priya' }, { type: 'text', text: '4821' }] },
        { type: 'header', parameters: [{ type: 'text', text: '4821' }] },
        { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '4821' }] },
      ],
    });
  });

  test('the wrong number of parameters answers 400 naming the field, and nothing is recorded or sent', async () => {
    const { conversationId, customer } = await conversation();
    const short = await api.act(account, conversationId, 'templates', account.keys.agent, { name: 'order_update', params: ['Priya'] });
    expect(short.status).toBe(400);
    expect(short.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'params', message: expect.stringContaining('2 parameters') }] });
    const noHeader = await api.act(account, conversationId, 'templates', account.keys.agent, { name: 'order_update', params: ['Priya', '4821'] });
    expect(noHeader.status).toBe(400);
    expect(noHeader.body.error.details[0].path).toBe('components');
    // The probe: a send that goes shows up, alone.
    const probe = await api.act(account, conversationId, 'templates', account.keys.agent, { name: 'welcome', language: 'es' });
    expect(probe.status).toBe(200);
    await fake.waitFor((r) => r.body?.to === `+${customer}` && r.body?.template?.name === 'welcome');
    expect(fake.requests.filter((r) => r.body?.to === `+${customer}`).map((r) => r.body.template.name)).toEqual(['welcome']);
    expect((await timeline(conversationId)).filter((m) => m.kind === 'template').map((m) => m.template.name)).toEqual(['welcome']);
  });

  test('a template the registry does not know is sent as before', async () => {
    const { conversationId, customer } = await conversation();
    const sent = await api.act(account, conversationId, 'templates', account.keys.agent, { name: 'not_synced_yet', params: ['anything'] });
    expect(sent.status).toBe(200);
    await fake.waitFor((r) => r.body?.to === `+${customer}` && r.body?.template?.name === 'not_synced_yet');
  });

  test("Meta's status webhook keeps status current: a paused template answers 409 template_unavailable until it is reinstated", async () => {
    const { conversationId, customer } = await conversation();
    const paused = await fake.sendTemplateStatus({ wabaId, name: 'welcome', language: 'en_US', event: 'PAUSED', reason: 'LOW_QUALITY' });
    expect(paused).toBe(200);
    const listed = (await env.stack.http.get(templatesPath(), account.keys.agent)).body.items.find((t: any) => t.name === 'welcome' && t.language === 'en_US');
    expect(listed.status).toBe('PAUSED');

    const refused = await api.act(account, conversationId, 'templates', account.keys.agent, { name: 'welcome' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('template_unavailable');
    const campaign = await env.stack.http.post(
      `/v1/accounts/${account.id}/campaign-messages`,
      { channel, customer, campaignId: `c-${randomUUID()}`, template: { name: 'welcome' } },
      account.keys.service,
    );
    expect(campaign.status).toBe(409);
    expect(campaign.body.error.code).toBe('template_unavailable');
    const pendingSend = await api.act(account, conversationId, 'templates', account.keys.agent, { name: 'spring_sale' });
    expect(pendingSend.status).toBe(409);

    expect(await fake.sendTemplateStatus({ wabaId, name: 'welcome', language: 'en_US', event: 'REINSTATED' })).toBe(200);
    const sent = await api.act(account, conversationId, 'templates', account.keys.agent, { name: 'welcome' });
    expect(sent.status).toBe(200);
    await fake.waitFor((r) => r.body?.to === `+${customer}` && r.body?.template?.name === 'welcome');
    // Only the reinstated send reached Graph.
    expect(fake.requests.filter((r) => r.body?.to === `+${customer}`)).toHaveLength(1);
  });

  test("a status update for another business account than the channels' changes nothing", async () => {
    const { rawBody, headers } = signedMetaRequest(templateStatusWebhookBody({ wabaId: '999000999', name: 'welcome', language: 'en_US', event: 'DISABLED' }), secrets.appSecret);
    const res = await env.stack.http.request('POST', `/webhooks/whatsapp/${account.id}`, { body: rawBody, headers });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ templateStatuses: 0 });
    const listed = (await env.stack.http.get(templatesPath(), account.keys.agent)).body.items.find((t: any) => t.name === 'welcome' && t.language === 'en_US');
    expect(listed.status).toBe('APPROVED');
  });
});
