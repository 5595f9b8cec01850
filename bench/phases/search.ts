import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBenchAccount, conversationId } from '../accounts';
import type { BenchContext } from '../context';
import { sizesFromEnv } from '../context';
import { summarize } from '../load';
import type { LatencySummary } from '../load';
import { collections } from '../../store/collections';
import type { MessageDoc } from '../../store/collections';
import { contactRevisionId, messageDocId } from '../../store/ids';
import type { ContactRevisionDoc } from '../../store/contact-profiles';
import { contactCopyDocs, insertContactCopies, recordContactMessages } from '../../store/contact-profiles';
import { applyContactChange, unknownContact } from '../../workflows/conversation/core/contact-profile';
import { searchTermDocsOf } from '../../store/search-index';
import { insertOnce } from '../../store/writes';
import { posOf } from '../../store/timeline';
import type { MessageRecord } from '../../workflows/conversation/core/model';
import { channel, round } from './ingest';

/**
 * SPEC 11's contacts search and message search at scale (issue 27's goals: contacts p99 < 50 ms at
 * 100,000 contacts; search p99 < 100 ms over 1,000,000 messages), through HTTP against the real API on
 * the embedded FerretDB. The data is seeded through the store functions `persist` calls (so it has their
 * shape and costs what they cost): `recordContactMessages` per contact (a claimed revision, its copy and
 * its name words), and the messages with their postings (`searchTermDocsOf`, `insertOnce`), without
 * workflows, which would take hours at these sizes. Messages are seeded in steps (`messagePoints`) and
 * the query mix is timed at each, so the growth of a query's time with the collection is measured.
 *
 * Sizes: `--quick` 5,000 contacts and 2,000 then 5,000 messages; full 100,000 contacts and 10,000 then
 * 100,000 messages (`BENCH_SEARCH_CONTACTS`, `BENCH_SEARCH_MESSAGES=10000,100000` override them).
 */
export interface SearchQueryPoint {
  kind: string;
  q: string;
  /** Items on the first page (limit 25), and whether it had a next cursor. */
  items: number;
  more: boolean;
  ms: LatencySummary;
  /** `os.loadavg()` (1 minute) when the samples began and ended. */
  load: [number, number];
  /** The two rounds apart (each half the samples), with the load at each. */
  rounds: { p50: number; p99: number; load: [number, number] }[];
}

export interface SearchResult {
  /** `viaFunction` of them seeded through recordContactMessages (at `viaFunctionPerSecond`), the rest as the documents it writes. */
  contacts: { count: number; seedSeconds: number; perSecond: number; viaFunction: number; viaFunctionPerSecond: number; queries: SearchQueryPoint[] };
  messages: { count: number; postings: number; seedSeconds: number; postingsPerSecond: number; queries: SearchQueryPoint[] }[];
  samples: number;
}

const pageSize = 25;
const pick = (s: LatencySummary) => ({ p50: s.p50, p99: s.p99 });
const first = ['Ana', 'Bruno', 'Carla', 'Daniel', 'Eduarda', 'Felipe', 'Gabriela', 'Hugo', 'Isabel', 'João', 'Larissa', 'Marcos', 'Natália', 'Otávio', 'Paula', 'Rafael'];
const last = ['Silva', 'Souza', 'Oliveira', 'Santos', 'Pereira', 'Lima', 'Carvalho', 'Ferreira', 'Rodrigues', 'Almeida', 'Costa', 'Gomes', 'Martins', 'Araújo', 'Melo', 'Barbosa', 'Ribeiro'];
const vocabulary = 'olá bom dia pedido entrega chegou amanhã obrigado cliente pagamento boleto cartão endereço rua número produto troca devolução prazo frete'.split(' ');

/** The i-th contact's name: 16 × 17 first and last names, and one rare name. */
export const benchContactName = (i: number): string => (i === 4242 ? 'Zuleika Quintanilha' : `${first[i % first.length]} ${last[(i * 7) % last.length]}`);

/**
 * The i-th message's text: 10 words of a 20-word vocabulary (every message is full of common words);
 * "alfa" in even messages and "beta" in odd ones, both only in one message of 1,000 (two common words
 * that seldom meet: the search's hard case); "pedido zebra" in one message of 1,000 (a rare word).
 */
export function benchMessageText(i: number): string {
  const words = Array.from({ length: 10 }, (_, k) => vocabulary[(i * 7 + k * 13) % vocabulary.length]!);
  words.push(i % 1000 === 500 ? 'alfa beta' : i % 2 === 0 ? 'alfa' : 'beta');
  if (i % 1000 === 0) words.push('pedido zebra');
  return words.join(' ');
}

const contactQueries = [
  { kind: 'phone prefix', q: '5511' },
  { kind: 'one name word prefix', q: 'an' },
  { kind: 'two name words', q: 'silva ana' },
  { kind: 'rare name', q: 'zuleika' },
];
const messageQueries = [
  { kind: 'rare word', q: 'zebra' },
  { kind: 'common 2-letter prefix', q: 'pe' },
  { kind: 'common + rare', q: 'pedido zebra' },
  { kind: 'two common words seldom together', q: 'alfa beta' },
];

function sizesOf(quick: boolean): { contacts: number; messagePoints: number[]; samples: number } {
  return {
    contacts: Number(process.env.BENCH_SEARCH_CONTACTS ?? (quick ? 5_000 : 100_000)),
    messagePoints: sizesFromEnv('BENCH_SEARCH_MESSAGES', quick ? [2_000, 5_000] : [10_000, 100_000]),
    samples: quick ? 40 : 200,
  };
}

/** Runs `fn` on `count` items, `concurrency` at a time. */
async function inParallel(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

export async function runSearch(ctx: BenchContext): Promise<SearchResult> {
  const { stack, api, log } = ctx;
  const sizes = sizesOf(ctx.quick);
  const account = await createBenchAccount(api.http, stack.platformKey, 'search');
  const c = collections(stack.db);

  /** `n` first pages of one query, one after another, at most 40 per second (the user key's rate limit is 50). */
  const sample = async (path: 'contacts' | 'search', query: { kind: string; q: string }, n: number) => {
    const url = `/v1/accounts/${account.id}/${path}?q=${encodeURIComponent(query.q)}&limit=${pageSize}`;
    const get = async () => {
      const r = await api.http.get(url, account.agentKey);
      if (r.status !== 200) throw new Error(`search ${query.kind}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as { items: unknown[]; nextCursor: string | null };
    };
    const warm = await get();
    const times: number[] = [];
    const loadStart = os.loadavg()[0]!;
    let last = performance.now();
    for (let i = 0; i < n; i++) {
      const wait = last + 25 - performance.now();
      if (wait > 0) await sleep(wait);
      last = performance.now();
      await get();
      times.push(performance.now() - last);
    }
    return { warm, times, load: [round(loadStart, 2), round(os.loadavg()[0]!, 2)] as [number, number] };
  };
  /** Each query kind in two rounds, the second after all kinds' first (timings here are noisy: two shared cores). */
  const measureAll = async (path: 'contacts' | 'search', queries: readonly { kind: string; q: string }[]): Promise<SearchQueryPoint[]> => {
    const rounds: Awaited<ReturnType<typeof sample>>[][] = [[], []];
    for (const round of rounds) for (const query of queries) round.push(await sample(path, query, Math.ceil(sizes.samples / 2)));
    return queries.map((query, k) => {
      const [a, b] = [rounds[0]![k]!, rounds[1]![k]!];
      const ms = summarize([...a.times, ...b.times]);
      const byRound = [a, b].map((r) => ({ ...pick(summarize(r.times)), load: r.load }));
      const point = { ...query, items: a.warm.items.length, more: a.warm.nextCursor !== null, ms, load: [a.load[0], b.load[1]] as [number, number], rounds: byRound };
      log(`  ${query.kind} "${query.q}": ${point.items} items${point.more ? ' (more)' : ''}, p50 ${ms.p50} p99 ${ms.p99} ms; rounds ${byRound.map((r) => `p50 ${r.p50} p99 ${r.p99} (load ${r.load.join(' → ')})`).join(', ')}`);
      return point;
    });
  };

  // The first ones through recordContactMessages (its rate is reported), the rest as the documents it
  // writes, in bulk: it claims a revision and writes the copy and words one contact at a time (about 75
  // contacts per second here under load), which would take over 20 minutes for 100,000.
  const viaFunction = Math.min(sizes.contacts, 2_000);
  const customer = (i: number) => `55${String(11_900_000_000 + i * 7919)}`;
  const told = (i: number) => ({ kind: 'messages' as const, channel, providerName: benchContactName(i), messages: [{ at: Date.UTC(2026, 0, 1) + i * 1000, attributes: { plan: i % 3 === 0 ? 'gold' : 'basic' } }] });
  log(`search: seeding ${viaFunction} contacts through recordContactMessages, ${sizes.contacts - viaFunction} more as the documents it writes`);
  let started = Date.now();
  await inParallel(viaFunction, 16, (i) => recordContactMessages(c.contactProfiles, { accountId: account.id, channel, customer: customer(i) }, told(i).providerName, told(i).messages));
  const functionSeconds = (Date.now() - started) / 1000;
  for (let start = viaFunction; start < sizes.contacts; start += 1_000) {
    const revisions: ContactRevisionDoc[] = [];
    const copies: ReturnType<typeof contactCopyDocs>[] = [];
    for (let i = start; i < Math.min(sizes.contacts, start + 1_000); i++) {
      const profile = { ...applyContactChange(unknownContact, told(i))!, rev: 1 };
      revisions.push({ _id: contactRevisionId(account.id, customer(i), 1), accountId: account.id, customer: customer(i), rev: 1, profile, at: new Date() });
      copies.push(contactCopyDocs(account.id, customer(i), profile, new Date()));
    }
    await insertOnce(c.contactProfiles.revisions, revisions);
    await insertContactCopies(c.contactProfiles, copies);
  }
  const contactSeconds = (Date.now() - started) / 1000;
  log(`  ${sizes.contacts} contacts in ${round(contactSeconds, 1)} s (${round(viaFunction / functionSeconds, 0)}/s through recordContactMessages); timing GET .../contacts?q= (${sizes.samples} samples each, in two rounds)`);
  const contactPoints = await measureAll('contacts', contactQueries);

  const points: SearchResult['messages'] = [];
  let seeded = 0;
  let postings = 0;
  const t0 = Date.UTC(2026, 0, 1);
  for (const target of sizes.messagePoints) {
    log(`search: seeding messages and their postings up to ${target}`);
    started = Date.now();
    const postingsBefore = postings;
    while (seeded < target) {
      const n = Math.min(500, target - seeded);
      const messages: MessageDoc[] = [];
      const terms = [];
      for (let i = seeded; i < seeded + n; i++) {
        const conversation = conversationId(account.id, channel, `49${String(1000 + (i % 300))}`);
        const m: MessageRecord = { seq: i, messageId: `wamid.${i}`, direction: 'inbound', kind: 'text', text: benchMessageText(i), template: null, content: null, delivery: null, authorId: null, at: t0 + i * 1000, sentAt: null, episode: 1, replyTo: null, attributes: null };
        messages.push({ _id: messageDocId(conversation, m.messageId), ...m, conversationId: conversation, accountId: account.id, pos: posOf(m.seq) });
        terms.push(...searchTermDocsOf(account.id, conversation, [m]));
      }
      await insertOnce(c.messages, messages);
      await insertOnce(c.searchTerms, terms);
      postings += terms.length;
      seeded += n;
    }
    const seedSeconds = (Date.now() - started) / 1000;
    const postingsPerSecond = round((postings - postingsBefore) / seedSeconds, 0);
    log(`  ${seeded} messages (${postings} postings; ${postingsPerSecond} postings/s); timing GET .../search?q=`);
    const queries = await measureAll('search', messageQueries);
    points.push({ count: seeded, postings, seedSeconds: round(seedSeconds, 1), postingsPerSecond, queries });
  }
  return { contacts: { count: sizes.contacts, seedSeconds: round(contactSeconds, 1), perSecond: round(sizes.contacts / contactSeconds, 0), viaFunction, viaFunctionPerSecond: round(viaFunction / functionSeconds, 0), queries: contactPoints }, messages: points, samples: sizes.samples };
}

/** The goals: contacts p99 < 50 ms (at 100,000 contacts), search p99 < 100 ms (at 1,000,000 messages: measured at fewer, see bench/README.md). */
export const searchGoals = (r: SearchResult) => ({
  contactsSearch: r.contacts.queries.every((q) => q.ms.p99 < 50),
  messageSearch: (r.messages.at(-1)?.queries ?? []).every((q) => q.ms.p99 < 100),
});
