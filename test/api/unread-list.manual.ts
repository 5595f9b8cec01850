import type { Actor, ConversationState, Input, MessageRecord } from '../../workflows/conversation/core/lifecycle';
import { decide, initialState } from '../../workflows/conversation/core/lifecycle';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import { toView } from '../../workflows/conversation/core/view';
import { readMarkCollections, readMarkId } from '../../store/read-marks';
import type { Account } from '../support/scenario';
import { useStackWithAccount } from '../support/scenario';
import type { Stack } from '../support/stack';

// By hand only (not CI): the list route with a user key, `unreadForMe` from the counters against the
// count per conversation it replaced, on the embedded FerretDB.
//   CONVERSATIONS=5000 npx jest --testMatch '**/unread-list.manual.ts' test/api/unread-list.manual.ts
// Views and messages are seeded straight into the database with the shapes the workflow writes (the pure
// core decides them): each conversation has 5 messages (4 from the customer, one reply), the manager has
// read half of them up to the second message. "before" is the same data with the views' counters removed,
// which sends the API down the count it used to run for every conversation.
const CONVERSATIONS = Number(process.env.CONVERSATIONS ?? 5_000);
const SAMPLES = Number(process.env.SAMPLES ?? 40);
const channel = 'wa-unread-bench';
const manager: Actor = { kind: 'user', userId: 'manager-1', role: 'manager' };

function seeded(accountId: string, i: number) {
  const customer = String(300_000_000 + i);
  const id = `conv:${accountId}:${channel}:${customer}`;
  let state: ConversationState = initialState({ conversationId: id, accountId, channel, customer });
  const messages: MessageRecord[] = [];
  const at = Date.UTC(2025, 0, 1) + i * 1_000;
  const step = (input: Input, actor: Actor, n: number) => {
    const d = decide(state, input, actor, defaultPolicy, at + n);
    if (!d.ok) throw new Error(`seed: ${d.code}`);
    state = d.state;
    for (const e of d.effects) if (e.type === 'recordMessage') messages.push(e.message);
  };
  const customerSays = (n: number) => step({ type: 'customerMessage', message: { messageId: `m${i}-${n}`, text: `hello ${n}` } }, { kind: 'customer' }, n);
  customerSays(1);
  customerSays(2);
  step({ type: 'assign', assigneeId: 'agent-1' }, manager, 3);
  step({ type: 'reply', content: { kind: 'text', text: 'on it' } }, { kind: 'user', userId: 'agent-1', role: 'agent' }, 4);
  customerSays(5);
  customerSays(6);
  const { id: _id, ...view } = toView(state, defaultPolicy);
  return { view: { _id, ...view }, messages: messages.map((m) => ({ _id: `${id}/${m.messageId}`, ...m, conversationId: id, accountId })) };
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

describe('list page with unreadForMe (measured by hand)', () => {
  const env = useStackWithAccount();
  let stack: Stack;
  let account: Account;
  beforeAll(() => ({ stack, account } = env));

  test(`${CONVERSATIONS} conversations, 5 messages each`, async () => {
    const db = stack.db;
    const marks = readMarkCollections(db);
    for (let start = 0; start < CONVERSATIONS; start += 500) {
      const batch = Array.from({ length: Math.min(500, CONVERSATIONS - start) }, (_, j) => seeded(account.id, start + j));
      await db.collection('conversations').insertMany(batch.map((b) => b.view) as never[], { ordered: false });
      await db.collection('messages').insertMany(batch.flatMap((b) => b.messages) as never[], { ordered: false });
      const read = batch.filter((_, j) => (start + j) % 2 === 0);
      const mark = (b: (typeof batch)[number]) => ({ accountId: account.id, conversationId: b.view._id, userId: account.users.manager, rev: 1, readUpToSeq: 2, inboundCountAtRead: 2, readAt: new Date() });
      await marks.marks.insertMany(read.map((b) => ({ _id: readMarkId(b.view._id, account.users.manager), ...mark(b) })));
      await marks.revisions.insertMany(read.map((b) => ({ _id: `${readMarkId(b.view._id, account.users.manager)}/1`, ...mark(b) })));
    }
    const path = `/v1/accounts/${account.id}/conversations?channel=${channel}&limit=25`;
    const measure = async (label: string) => {
      for (let i = 0; i < 3; i++) await stack.http.get(path, account.keys.manager);
      const ms: number[] = [];
      let body: { conversations: { id: string; unreadForMe: number }[] } | undefined;
      for (let i = 0; i < SAMPLES; i++) {
        const t = performance.now();
        const res = await stack.http.get(path, account.keys.manager);
        ms.push(performance.now() - t);
        expect(res.status).toBe(200);
        body = res.body;
      }
      console.log(`${label}: ${CONVERSATIONS} conversations, ${SAMPLES} pages of 25: p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms`);
      return body!.conversations.map((c) => [c.id, c.unreadForMe]);
    };
    const after = await measure('after (counters)');
    await db.collection('conversations').updateMany({ accountId: account.id }, { $unset: { inboundCount: '', inboundCountFromStart: '' } });
    const before = await measure('before (a count per conversation)');
    // Same answers both ways: read ones 2 unread, the others 4.
    expect(after).toEqual(before);
    expect(new Set(after.map(([, n]) => n))).toEqual(new Set([2, 4]));
  }, 1_800_000);
});
