import { randomUUID } from 'node:crypto';
import { eventually, Http } from '../support/stack';

/**
 * What the fuzzer needs to get past authorization and reach the code behind it: an account with an owner,
 * an agent, a user whose keys and settings the fuzzer may change at will (so it never locks out the keys
 * it runs with), a service key, and a conversation with a customer message in it.
 */
export type FuzzAccount = {
  id: string;
  keys: { owner: string; agent: string; service: string };
  users: { owner: string; agent: string; target: string };
  conversationId: string;
  channel: string;
};

export async function createFuzzAccount(baseUrl: string, platformKey: string): Promise<FuzzAccount> {
  const http = new Http(baseUrl);
  const id = `fuzz-${randomUUID().slice(0, 8)}`;
  const expect = (what: string, reply: { status: number; body: unknown }, status: number) => {
    if (reply.status !== status) throw new Error(`${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
  };
  expect('account', await http.post('/v1/accounts', { id, name: `Fuzz ${id}` }, platformKey), 201);
  const user = async (userId: string, role: string): Promise<string> => {
    const reply = await http.post(`/v1/accounts/${id}/users`, { id: userId, name: userId, role }, platformKey);
    expect(`user ${userId}`, reply, 201);
    return (reply.body as { apiKey: string }).apiKey;
  };
  const owner = await user('owner-1', 'owner');
  const agent = await user('agent-1', 'agent');
  await user('target-1', 'agent');
  const service = await http.post(`/v1/accounts/${id}/service-keys`, { name: 'fuzz-backend' }, platformKey);
  expect('service key', service, 201);
  const serviceKey = (service.body as { apiKey: string }).apiKey;

  const channel = 'wa-main';
  const message = await http.post(
    `/v1/accounts/${id}/messages`,
    { channel, customer: '15550000001', messageId: `wamid.${randomUUID()}`, text: 'hello' },
    serviceKey,
  );
  expect('customer message', message, 202);
  const conversationId = (message.body as { conversationId: string }).conversationId;
  await eventually(async () => {
    const view = await http.get(`/v1/accounts/${id}/conversations/${encodeURIComponent(conversationId)}`, owner);
    return view.status === 200 ? true : undefined;
  });
  return { id, keys: { owner, agent, service: serviceKey }, users: { owner: 'owner-1', agent: 'agent-1', target: 'target-1' }, conversationId, channel };
}
