import { seededConversation } from '../../bench/phases/inbox';
import { withReadMarks } from '../../api/read-marks';
import { toConversationView } from '../../api/conversation-views';
import { listViews } from '../../store/conversation-views';
import { readMarkId } from '../../store/read-marks';
import type { Account } from '../support/scenario';
import { useStackWithAccount } from '../support/scenario';
import type { Stack } from '../support/stack';

// By hand only: where an inbox page's time goes beyond the list read (issue 28, goal 5).
//   CONVERSATIONS=10000 npx jest --testMatch '**/inbox-page-cost.manual.ts' test/api/inbox-page-cost.manual.ts
const CONVERSATIONS = Number(process.env.CONVERSATIONS ?? 10_000);
const SAMPLES = Number(process.env.SAMPLES ?? 200);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

describe('inbox page cost (measured by hand)', () => {
  const env = useStackWithAccount();
  let stack: Stack;
  let account: Account;
  beforeAll(() => ({ stack, account } = env));

  test('stages', async () => {
    const c = stack.db.collection<{ _id: string } & Record<string, unknown>>('conversations');
    for (let s = 0; s < CONVERSATIONS; s += 1000) {
      await c.insertMany(Array.from({ length: Math.min(1000, CONVERSATIONS - s) }, (_, j) => seededConversation(account.id, s + j)), { ordered: false });
    }
    const deps = stack.apiDeps;
    const filter = { accountId: account.id, status: 'open' as const, archived: { $ne: true } };
    const sort = { lastActivityAt: -1, _id: -1 } as const;
    const page = async () => (await listViews(deps.collections, filter as never, sort, 26)).slice(0, 25);
    const views = (await page()).map(toConversationView);
    const agent = { kind: 'user', userId: account.users.agent, role: 'agent', accountId: account.id } as never;
    const time = async (label: string, fn: () => Promise<unknown>) => {
      for (let i = 0; i < 5; i++) await fn();
      const ms: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const t = performance.now();
        await fn();
        ms.push(performance.now() - t);
      }
      console.log(`${label}: p50 ${pct(ms, 50).toFixed(2)} ms, p90 ${pct(ms, 90).toFixed(2)}, p99 ${pct(ms, 99).toFixed(2)}`);
    };
    const marks = deps.collections.readMarks;
    const ids = views.map((v) => readMarkId(v.id!, account.users.agent));
    await time('list read (listViews, 26 rows)', page);
    await time('list read with projection {_id:1} (26 rows)', () => c.find(filter as never, { projection: { _id: 1 } }).sort(sort).limit(26).toArray());
    await time('one point read (view by _id)', () => c.findOne({ _id: views[0]!.id! }));
    await time('25 point reads at once (missing marks)', () => Promise.all(ids.map((_id) => marks.marks.findOne({ _id }))));
    await time('25 point reads at once (views)', () => Promise.all(views.map((v) => c.findOne({ _id: v.id! }))));
    await time('25 point reads in sequence (missing marks)', async () => {
      for (const _id of ids) await marks.marks.findOne({ _id });
    });
    await time('withReadMarks (25 unmarked)', () => withReadMarks(deps, agent, views));
    await time('API page', () => stack.http.get(`/v1/accounts/${account.id}/conversations?status=open`, account.keys.agent));
    await time('API one view', () => stack.http.get(`/v1/accounts/${account.id}/conversations/${encodeURIComponent(views[0]!.id!)}`, account.keys.service));
  }, 1_800_000);
});
