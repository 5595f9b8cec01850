import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import type { PersistBatch } from '../../activities/conversation-activities';
import { createConversationActivities } from '../../activities/conversation-activities';
import { ensureIndexes } from '../../store/collections';
import { backfillEpisodes } from '../../store/episode-backfill';
import type { EpisodeDoc } from '../../store/episodes';
import { storedEpisode } from '../../store/episodes';
import { episodeDocId } from '../../store/ids';
import { toBatch } from '../../workflows/conversation/core/batch';
import type { EpisodeRow } from '../../workflows/conversation/core/episode-fold';
import { foldBatch, foldContextOf } from '../../workflows/conversation/core/episode-fold';
import type { Actor, ConversationState, Input } from '../../workflows/conversation/core/lifecycle';
import { decide, initialState } from '../../workflows/conversation/core/lifecycle';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import { quietLog } from '../support/stack';
import { testServers } from '../support/test-servers';

/**
 * SPEC 11's episode rows as `persist` keeps them (activities/episode-rows.ts) against FerretDB, both
 * ways of writing forwards: the stored rows equal the pure fold of every batch; a retried batch changes
 * nothing; a row set back, or an episode that began before rows existed, is caught up from the stored
 * records at its next batch; the backfill inserts only missing rows, and its dry run writes nothing.
 */
describe.each(['filter', 'read-then-write'] as const)('episode rows kept by persist (%s)', (conditionalWrites) => {
  let mongo: MongoClient;
  let db: Db;

  beforeAll(async () => {
    mongo = await MongoClient.connect(testServers().mongoUri);
    db = mongo.db(`episodes_${randomUUID().slice(0, 8)}`);
    await ensureIndexes(db);
  });
  afterAll(async () => {
    await db?.dropDatabase();
    await mongo?.close();
  });

  const activities = (episodeRows = true) => createConversationActivities({ db, log: quietLog, conditionalWrites, episodeRows });
  const customer: Actor = { kind: 'customer' };
  const agent: Actor = { kind: 'user', userId: 'ana', role: 'agent' };
  const T = Date.UTC(2026, 0, 5, 9);

  /** Two episodes: answered, resolved, reopened, answered again; one batch per decision. */
  function lifecycle(): { id: string; batches: PersistBatch[] } {
    const id = `conv:acct-${randomUUID().slice(0, 6)}:wa:4912345`;
    let state: ConversationState = initialState({ conversationId: id, accountId: id.split(':')[1]!, channel: 'wa', customer: '4912345' });
    const steps: [Input, Actor][] = [
      [{ type: 'customerMessage', message: { messageId: 'm1', text: 'hi' } }, customer],
      [{ type: 'reply', content: { kind: 'text', text: 'hello' } }, agent],
      [{ type: 'customerMessage', message: { messageId: 'm2', text: 'thanks' } }, customer],
      [{ type: 'resolve' }, agent],
      [{ type: 'customerMessage', message: { messageId: 'm3', text: 'again' } }, customer],
      [{ type: 'reply', content: { kind: 'text', text: 'yes?' } }, agent],
    ];
    const batches = steps.map(([input, actor], i) => {
      const d = decide(state, input, actor, defaultPolicy, T + i * 60_000);
      if (!d.ok) throw new Error(d.message);
      state = d.state;
      return toBatch(state, defaultPolicy, d.effects);
    });
    return { id, batches };
  }

  const expected = (id: string, batches: PersistBatch[]): Map<number, EpisodeRow> => {
    let rows = new Map<number, EpisodeRow>();
    const who = { conversationId: id, accountId: batches[0]!.view.accountId, channel: 'wa', customer: '4912345' };
    for (const b of batches) rows = foldBatch(rows, who, b, foldContextOf(defaultPolicy, { episode: b.view.episode, priority: b.view.priority, tags: b.view.tags, team: b.view.team }));
    return rows;
  };
  const stored = async (id: string, episode: number) => {
    const doc = await db.collection<EpisodeDoc>('episodes').findOne({ _id: episodeDocId(id, episode) });
    if (doc === null) return null;
    // As readers see it, of either shape (a compact document's JSON text keeps its nulls).
    const { _id, version: _v, assigneeIds: _a, ...row } = storedEpisode(doc);
    return row;
  };

  test('the stored rows are the fold of every batch, and a retried or late batch changes nothing', async () => {
    const { id, batches } = lifecycle();
    for (const b of batches) await activities().persist(b);
    await activities().persist(batches[1]!);
    await activities().persist(batches[5]!);
    const rows = expected(id, batches);
    expect(await stored(id, 1)).toEqual(rows.get(1));
    expect(await stored(id, 2)).toEqual(rows.get(2));
    expect(rows.get(1)).toMatchObject({ customerMessages: 2, userMessages: 1, closedReason: 'resolved', firstResponseSeconds: 60 });
  });

  test('a row set back (or never written) is caught up from the stored records at its next batch', async () => {
    const { id, batches } = lifecycle();
    // Rows off for the first episode, as before this change: the second episode's rows start with it.
    for (const b of batches.slice(0, 2)) await activities(false).persist(b);
    await activities().persist(batches[2]!);
    expect(await stored(id, 1)).toEqual(expected(id, batches.slice(0, 3)).get(1));
    // A row set back to an older fold (a late write): the next batch reads what it missed.
    const older = await db.collection('episodes').findOne({ _id: episodeDocId(id, 1) as never });
    await activities().persist(batches[3]!);
    await db.collection('episodes').replaceOne({ _id: episodeDocId(id, 1) as never }, older!);
    await activities(false).persist(batches[4]!);
    await activities().persist(batches[5]!);
    expect(await stored(id, 2)).toEqual(expected(id, batches).get(2));
    // Episode 1 had nothing in the last batch: it stays behind until its next record (a template, a survey answer).
    expect((await stored(id, 1))!.resolvedAt).toBeNull();
  });

  test('the backfill writes only missing rows from the stored records, and its dry run writes nothing', async () => {
    const { id, batches } = lifecycle();
    for (const b of batches) await activities(false).persist(b);
    const accountId = batches[0]!.view.accountId;
    const lines: string[] = [];
    const dry = await backfillEpisodes(db, { dryRun: true, accountId, report: (l) => lines.push(l) });
    expect(dry).toEqual({ conversations: 1, existing: 0, written: 2, raced: 0 });
    expect(lines).toEqual([expect.stringContaining(`would write ${id}/1`), expect.stringContaining(`would write ${id}/2`)]);
    expect(await stored(id, 1)).toBeNull();
    const run = await backfillEpisodes(db, { dryRun: false, accountId });
    expect(run).toEqual({ conversations: 1, existing: 0, written: 2, raced: 0 });
    const rows = expected(id, batches);
    expect(await stored(id, 1)).toEqual(rows.get(1));
    expect(await stored(id, 2)).toEqual(rows.get(2));
    expect(await backfillEpisodes(db, { dryRun: false, accountId })).toEqual({ conversations: 1, existing: 2, written: 0, raced: 0 });
  });
});
