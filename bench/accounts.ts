import { randomUUID } from 'node:crypto';
import { conversationWorkflowId } from '../workflows/conversation/messages';
import type { Http } from './http-client';

/**
 * An account made through the public API, as a customer of convoflow would: a service key for inbound
 * messages, an agent who replies, and a manager (a supervisor) for actions agents may not take.
 */
export interface BenchAccount {
  id: string;
  serviceKey: string;
  agentKey: string;
  agentId: string;
  managerKey: string;
}

export async function createBenchAccount(http: Http, platformKey: string, prefix: string, policy?: Record<string, unknown>): Promise<BenchAccount> {
  const id = `${prefix}-${randomUUID().slice(0, 6)}`;
  const created = await http.post('/v1/accounts', { id, name: `bench ${id}`, ...(policy ? { policy } : {}) }, platformKey);
  if (created.status !== 201) throw new Error(`account ${id} not created: ${created.status} ${JSON.stringify(created.body)}`);
  const user = async (userId: string, role: string) => {
    const res = await http.post(`/v1/accounts/${id}/users`, { id: userId, name: userId, role }, platformKey);
    if (res.status !== 201) throw new Error(`user ${userId} not created: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.apiKey as string;
  };
  const agentKey = await user('agent-1', 'agent');
  const managerKey = await user('manager-1', 'manager');
  const service = await http.post(`/v1/accounts/${id}/service-keys`, { name: 'bench' }, platformKey);
  if (service.status !== 201) throw new Error(`service key not created: ${service.status} ${JSON.stringify(service.body)}`);
  return { id, serviceKey: service.body.apiKey, agentKey, agentId: 'agent-1', managerKey };
}

/** Customer ids are digits (SPEC): a per-account prefix and a counter keep every conversation distinct. */
export function customerId(group: number, n: number): string {
  return `${group}${String(n).padStart(8, '0')}`;
}

export function conversationId(accountId: string, channel: string, customer: string): string {
  return conversationWorkflowId({ accountId, channel, customer });
}

export function conversationPath(accountId: string, id: string, suffix = ''): string {
  return `/v1/accounts/${accountId}/conversations/${encodeURIComponent(id)}${suffix}`;
}
