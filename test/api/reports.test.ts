import type { Stack } from '../support/stack';
import { eventually, useStack } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import type { GroupBy, SummaryRow } from '../../workflows/conversation/core/episode-summary';
import { groupBys, summarize } from '../../workflows/conversation/core/episode-summary';

/**
 * SPEC 11's reports through the real stack (API, worker, dev server, FerretDB): episode rows kept by
 * the conversations' own persist as lifecycles run (a reopen, an automation, an SLA breach, a CSAT
 * answer), read as JSON pages and as CSV, and a summary that equals the one recomputed from the rows.
 * Every wait is on a fact (a row showing what was done), never on a sleep.
 */
describe('reports', () => {
  let stack: Stack;
  const env = useStack();
  beforeAll(() => ({ stack } = env));

  type Row = Record<string, any>;
  const started = new Date(Date.now() - 60_000).toISOString();
  const until = () => new Date(Date.now() + 3_600_000).toISOString();
  const act = (account: Account, id: string, action: string, key: string, body: unknown = {}) => stack.http.post(conversationPath(account, id, `/${action}`), body, key);
  const ok = async (p: Promise<{ status: number; body: unknown }>) => {
    const res = await p;
    if (res.status >= 300) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };

  /** Every row of the range, page by page (small pages, so the cursor is used). */
  async function rowsOf(account: Account, query = ''): Promise<Row[]> {
    const rows: Row[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/accounts/${account.id}/reports/episodes?from=${started}&to=${until()}&limit=2${query}${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await stack.http.get(path, account.keys.manager);
      expect(res.status).toBe(200);
      rows.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor !== null);
    return rows;
  }
  const rowOf = async (account: Account, conversationId: string, episode: number, check: (r: Row) => boolean = () => true) =>
    eventually(async () => (await rowsOf(account)).find((r) => r.conversationId === conversationId && r.episode === episode && check(r)));

  describe('the default lifecycle with SLA targets', () => {
    let account: Account;
    const ids: Record<string, string> = {};
    beforeAll(async () => {
      account = await createAccount(stack, { serviceWindow: '24h', autoCloseAfter: '24h' });
      // `normal` cannot breach during the test; `urgent` breaches at once, whatever the machine's load.
      const policy = { sla: { normal: { firstResponse: '1h', resolution: '1h' }, urgent: { firstResponse: '1s' } } };
      await ok(stack.http.patch(`/v1/accounts/${account.id}/policy`, policy, account.keys.admin));

      // Answered, resolved, reopened and answered by someone else.
      ids.reopened = (await customerWrites(stack, account, { customer: newCustomer() })).conversationId;
      await ok(act(account, ids.reopened, 'replies', account.keys.agent, { text: 'hello' }));
      await ok(act(account, ids.reopened, 'resolve', account.keys.agent));
      await customerWrites(stack, account, { customer: ids.reopened.split(':').at(-1)! });
      await ok(act(account, ids.reopened, 'assign', account.keys.manager, { assigneeId: account.users.agent2 }));
      await ok(act(account, ids.reopened, 'templates', account.keys.agent2, { name: 'follow_up', language: 'en' }));
      await ok(act(account, ids.reopened, 'notes', account.keys.agent2, { text: 'not a message to the customer' }));

      // Urgent: the first response is breached before anyone answers.
      ids.breached = (await customerWrites(stack, account, { customer: newCustomer(), channel: 'wa-other' })).conversationId;
      await ok(act(account, ids.breached, 'priority', account.keys.agent, { priority: 'urgent' }));
      await eventually(async () => {
        const events = (await stack.http.get(conversationPath(account, ids.breached!, '/events'), account.keys.agent)).body.events as { type: string }[];
        return events.some((e) => e.type === 'sla_breached') || undefined;
      });
      await ok(act(account, ids.breached, 'replies', account.keys.agent2, { text: 'sorry for the wait' }));

      // Open, nobody answered yet.
      ids.waiting = (await customerWrites(stack, account, { customer: newCustomer() })).conversationId;
    });

    test('keeps one row per episode as it moves: stints, first responses, counts and the episode it reopened', async () => {
      const first = await rowOf(account, ids.reopened!, 1);
      expect(first).toMatchObject({
        channel: 'wa-main',
        closedReason: 'resolved',
        customerMessages: 1,
        userMessages: 1,
        reopenedFrom: null,
        assignees: [{ userId: account.users.agent, to: first.resolvedAt, firstReplySeconds: 0 }],
        sla: { firstResponse: 'met', nextResponse: 'none', resolution: 'met' },
        csat: null,
        priority: 'normal',
      });
      expect(first.firstResponseAt).toBe(first.firstAssignedAt);
      expect(first.firstResponseSeconds).toBeGreaterThanOrEqual(0);
      expect(first.resolutionSeconds).toBe((Date.parse(first.resolvedAt) - Date.parse(first.startedAt)) / 1000);

      const second = await rowOf(account, ids.reopened!, 2, (r) => r.userMessages === 1);
      expect(second).toMatchObject({ reopenedFrom: 1, resolvedAt: null, customerMessages: 1, userMessages: 1, sla: { firstResponse: 'met', resolution: 'pending' } });
      expect(second.assignees).toEqual([expect.objectContaining({ userId: account.users.agent2, to: null })]);
      expect(Date.parse(second.startedAt)).toBeGreaterThan(Date.parse(first.resolvedAt));
      expect(second.firstResponseSeconds).toBe((Date.parse(second.firstResponseAt) - Date.parse(second.startedAt)) / 1000);
    });

    test('an SLA breach is a breached outcome; an unanswered open episode is pending', async () => {
      const breached = await rowOf(account, ids.breached!, 1, (r) => r.firstResponseAt !== null);
      expect(breached).toMatchObject({ channel: 'wa-other', priority: 'urgent', sla: { firstResponse: 'breached', nextResponse: 'none', resolution: 'none' } });
      expect(breached.firstResponseSeconds).toBeGreaterThanOrEqual(1);
      const waiting = await rowOf(account, ids.waiting!, 1);
      expect(waiting).toMatchObject({ firstResponseAt: null, assignees: [], sla: { firstResponse: 'pending', resolution: 'pending' } });
    });

    test('filters by channel, assignee and team', async () => {
      await rowOf(account, ids.breached!, 1, (r) => r.firstResponseAt !== null);
      expect((await rowsOf(account, '&channel=wa-other')).map((r) => r.conversationId)).toEqual([ids.breached]);
      const byAgent2 = await rowsOf(account, `&assignee=${account.users.agent2}`);
      expect(byAgent2.map((r) => [r.conversationId, r.episode]).sort()).toEqual([[ids.breached, 1], [ids.reopened, 2]].sort());
      await ok(stack.http.patch(`/v1/accounts/${account.id}/users/${account.users.agent}`, { teams: ['support'] }, account.keys.admin));
      const bySupport = await rowsOf(account, '&team=support');
      expect(bySupport.map((r) => [r.conversationId, r.episode]).sort()).toEqual([[ids.reopened, 1]]);
    });

    test('the summary equals the one recomputed from the rows, for every groupBy', async () => {
      await rowOf(account, ids.breached!, 1, (r) => r.firstResponseAt !== null);
      await rowOf(account, ids.reopened!, 2, (r) => r.userMessages === 1);
      const to = until();
      const rows = await rowsOf(account);
      for (const groupBy of groupBys) {
        const res = await stack.http.get(`/v1/accounts/${account.id}/reports/summary?from=${started}&to=${to}&groupBy=${groupBy}`, account.keys.owner);
        expect(res.status).toBe(200);
        expect(res.body.items).toEqual(summarize(rows as SummaryRow[], groupBy as GroupBy, null));
      }
      const byChannel = (await stack.http.get(`/v1/accounts/${account.id}/reports/summary?from=${started}&to=${to}&groupBy=channel`, account.keys.owner)).body.items;
      expect(byChannel.find((i: Row) => i.group === 'wa-other')).toMatchObject({ episodesStarted: 1, episodesClosed: 0, sla: { firstResponse: { met: 0, breached: 1, attainment: 0 } } });
      expect(byChannel.find((i: Row) => i.group === 'wa-main')).toMatchObject({ episodesStarted: 3, episodesClosed: 1, resolutionSeconds: { p50: rows.find((r) => r.resolvedAt)!.resolutionSeconds } });
    });

    test('streams the whole range as CSV: a header row, one column per scalar field, JSON text for assignees, tags and sla, empty cells for null', async () => {
      await rowOf(account, ids.reopened!, 2, (r) => r.userMessages === 1);
      const res = await stack.http.request('GET', `/v1/accounts/${account.id}/reports/episodes?from=${started}&to=${until()}&limit=1`, { key: account.keys.manager, headers: { accept: 'text/csv' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      const lines = (res.body as string).trimEnd().split('\r\n');
      const header = lines[0]!.split(',');
      expect(header.slice(0, 5)).toEqual(['conversationId', 'episode', 'channel', 'customer', 'startedAt']);
      expect(header.slice(-3)).toEqual(['assignees', 'tags', 'sla']);
      expect(lines).toHaveLength(1 + (await rowsOf(account)).length);
      const waiting = lines.find((l) => l.startsWith(`${ids.waiting},1,`))!;
      const cells = parseCsvLine(waiting);
      expect(cells[header.indexOf('resolvedAt')]).toBe('');
      expect(JSON.parse(cells[header.indexOf('sla')]!)).toEqual({ firstResponse: 'pending', nextResponse: 'none', resolution: 'pending' });
      expect(JSON.parse(cells[header.indexOf('assignees')]!)).toEqual([]);
    });

    test('bad input answers 400 naming the parameter; agents are refused', async () => {
      const base = `/v1/accounts/${account.id}/reports`;
      const refused = async (path: string, parameter: string) => {
        const res = await stack.http.get(path, account.keys.manager);
        expect([res.status, res.body.error.code]).toEqual([400, 'validation_failed']);
        expect(res.body.error.message).toContain(parameter);
      };
      await refused(`${base}/episodes?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`, 'from');
      await refused(`${base}/episodes?from=2025-01-01T00:00:00Z&to=2026-01-03T00:00:00Z`, 'to');
      await refused(`${base}/episodes?to=2026-01-03T00:00:00Z`, 'from');
      await refused(`${base}/summary?from=2025-12-01T00:00:00Z&to=2026-01-03T00:00:00Z&groupBy=week`, 'groupBy');
      await refused(`${base}/episodes?from=2025-12-01T00:00:00Z&to=2026-01-03T00:00:00Z&cursor=nonsense`, 'cursor');
      const agent = await stack.http.get(`${base}/summary?from=2025-12-01T00:00:00Z&to=2026-01-03T00:00:00Z`, account.keys.agent);
      expect(agent.status).toBe(403);
    });
  });

  test('an automation and a survey (status inbox): time in in_flow is no response time, and the CSAT answer is kept', async () => {
    const account = await createAccount(stack, { preset: 'status_inbox', serviceWindow: '24h' });
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer });
    const startedFlow = await ok(act(account, conversationId, 'flow', account.keys.service, { action: 'start' }));
    await customerWrites(stack, account, { customer, text: 'still there?' });
    const ended = await ok(act(account, conversationId, 'flow', account.keys.service, { action: 'end', assignTo: { userId: account.users.agent } }));
    await ok(act(account, conversationId, 'replies', account.keys.agent, { text: 'here I am' }));
    await ok(act(account, conversationId, 'resolve', account.keys.agent));
    await ok(stack.http.post(`/v1/accounts/${account.id}/customer-events`, { channel: 'wa-main', customer, type: 'csat', score: 4 }, account.keys.service));
    const row = await rowOf(account, conversationId, 1, (r) => r.csat !== null);
    expect(row).toMatchObject({ csat: 4, closedReason: 'resolved', customerMessages: 2, userMessages: 1 });
    // From the first message to the reply, less the flow's time: before the flow, and after it.
    const at = (res: { body: unknown }) => Date.parse((res.body as { conversation: { updatedAt: string } }).conversation.updatedAt);
    const flowStart = at(startedFlow);
    const flowEnd = at(ended);
    expect(row.firstResponseSeconds).toBe((flowStart - Date.parse(row.startedAt) + (Date.parse(row.firstResponseAt) - flowEnd)) / 1000);
    expect(row.assignees).toEqual([expect.objectContaining({ userId: account.users.agent, from: new Date(flowEnd).toISOString() })]);
  });
});

/** One CSV line (RFC 4180 quoting) into its cells. */
function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}
