import type { Stack } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';

/**
 * The role-by-action permission matrix of SPEC sections 2 and 5 (and seed 003's table), executed
 * against the real stack: every principal tries every action on a conversation in every state.
 */
type Who = 'owner' | 'admin' | 'manager' | 'agent' | 'agent2' | 'service';
type State = 'open' | 'assigned' | 'closed';
type Action = 'reply' | 'template' | 'assignOther' | 'claim' | 'takeOver' | 'resolve';
const ok = 200;

// `agent` is the assignee whenever the conversation is assigned.
const expected: Record<State, Record<Action, Partial<Record<Who, number | string>> & { default: number | string }>> = {
  open: {
    reply: { service: 'forbidden', default: ok },
    template: { service: 'forbidden', default: ok },
    assignOther: { agent: 'forbidden', agent2: 'forbidden', service: 'forbidden', default: ok },
    claim: { service: 'forbidden', default: ok },
    takeOver: { agent: 'forbidden', agent2: 'forbidden', service: 'forbidden', default: ok },
    resolve: { agent: 'forbidden', agent2: 'forbidden', service: 'forbidden', default: ok },
  },
  assigned: {
    reply: { agent: ok, service: 'forbidden', default: 'not_assignee' },
    template: { agent: ok, service: 'forbidden', default: 'not_assignee' },
    assignOther: { agent2: 'not_assignee', service: 'forbidden', default: ok },
    claim: { agent2: 'not_assignee', service: 'forbidden', default: ok },
    takeOver: { agent: 'forbidden', agent2: 'forbidden', service: 'forbidden', default: ok },
    resolve: { agent2: 'not_assignee', service: 'forbidden', default: ok },
  },
  closed: {
    reply: { service: 'forbidden', default: 'conversation_closed' },
    template: { service: 'forbidden', default: ok },
    assignOther: { service: 'forbidden', default: 'conversation_closed' },
    claim: { service: 'forbidden', default: 'conversation_closed' },
    takeOver: { agent: 'forbidden', agent2: 'forbidden', service: 'forbidden', default: 'conversation_closed' },
    resolve: { service: 'forbidden', default: 'conversation_closed' },
  },
};

const who: Who[] = ['owner', 'admin', 'manager', 'agent', 'agent2', 'service'];
const cases = (Object.keys(expected) as State[]).flatMap((state) =>
  (Object.keys(expected[state]) as Action[]).flatMap((action) =>
    who.map((w) => [state, action, w, expected[state][action][w] ?? expected[state][action].default] as const),
  ),
);

describe('permission matrix', () => {
  let stack: Stack;
  let account: Account;
  const env = useStackWithAccount();
  beforeAll(() => ({ stack, account } = env));

  async function conversationIn(state: State): Promise<string> {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    if (state === 'open') return conversationId;
    await stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent }, account.keys.admin);
    if (state === 'closed') await stack.http.post(conversationPath(account, conversationId, '/resolve'), {}, account.keys.admin);
    return conversationId;
  }

  function request(action: Action, w: Who): [string, unknown] {
    const self = w === 'service' ? 'nobody' : account.users[w];
    switch (action) {
      case 'reply':
        return ['/replies', { text: 'hello' }];
      case 'template':
        return ['/templates', { name: 'greeting', language: 'en' }];
      case 'assignOther':
        return ['/assign', { assigneeId: w === 'agent2' ? account.users.agent : account.users.agent2 }];
      case 'claim':
        return ['/assign', { assigneeId: w === 'service' ? account.users.agent2 : self }];
      case 'takeOver':
        return ['/take-over', {}];
      case 'resolve':
        return ['/resolve', {}];
    }
  }

  test.each(cases)('on %s, %s by %s answers %s', async (state, action, w, outcome) => {
    const conversationId = await conversationIn(state);
    const before = (await stack.http.get(conversationPath(account, conversationId), account.keys.owner)).body;
    const [suffix, body] = request(action, w);
    const res = await stack.http.post(conversationPath(account, conversationId, suffix), body, account.keys[w]);
    if (outcome === ok) {
      expect(res.status).toBe(200);
      return;
    }
    expect(res.body.error?.code).toBe(outcome);
    expect(res.status).toBe(outcome === 'conversation_closed' ? 409 : 403);
    // A rejected action changes nothing.
    expect((await stack.http.get(conversationPath(account, conversationId), account.keys.owner)).body).toEqual(before);
  });
});
