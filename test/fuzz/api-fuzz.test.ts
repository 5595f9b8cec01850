import fs from 'node:fs';
import path from 'node:path';
import { ensureTool } from '../../dev/tools';
import { testServers } from '../support/test-servers';
import type { FuzzAccount } from './fuzz-account';
import { createFuzzAccount } from './fuzz-account';
import type { FuzzStack } from './fuzz-stack';
import { errorLines, startFuzzStack } from './fuzz-stack';
import { malformedBodies, send, sendTruncated } from './malformed-matrix';
import type { FuzzSummary } from './schemathesis-run';
import { describe as describeRun, failingChecks, runSchemathesis } from './schemathesis-run';

/**
 * The fuzz tier (SPEC section 12 "Bodies": no input ever answers 500). schemathesis generates requests
 * for every operation of the API's own /openapi.json, valid and invalid, with an owner's key, an agent's and
 * a service key; then every operation that takes a body gets every malformed body of malformed-matrix.ts. The
 * tier fails on any 5xx, on any answer the document does not describe (status, content type, body), on
 * an operation that ignores missing credentials, and on anything the API logged at error level.
 *
 * Bounded to a few minutes on two cores: `FUZZ_MAX_EXAMPLES` (default 15) cases per operation in the
 * fuzzing phase (the coverage phase adds its own, about 50 per operation), with a fixed `FUZZ_SEED` so a run can be repeated (a new seed explores new inputs).
 */

/** The stream answers for ever (an event stream): a generated request would only time out; its inputs are sent by hand below. */
const excludedPaths = ['/v1/accounts/{accountId}/stream'];

/**
 * Findings of a failing check that are known and accepted, with why: `check` on `operation` (as
 * schemathesis labels it, `METHOD /path`). Keep this short; every entry is a defect to fix.
 */
const accepted: { check: string; operation: string; why: string }[] = [];

const maxExamples = Number(process.env.FUZZ_MAX_EXAMPLES ?? 15);
const seed = Number(process.env.FUZZ_SEED ?? 24);

/** What the tier found, printed once at the end (the figures go in the CI log). */
const figures: string[] = [];

let stack: FuzzStack;
let account: FuzzAccount;
let binary: string;
let reportDir: string;

beforeAll(async () => {
  binary = await ensureTool('schemathesis', { log: (line) => process.stderr.write(`[tools] ${line}\n`) });
  reportDir = fs.mkdtempSync(path.join(process.env.FUZZ_REPORT_DIR ?? testServers().runDir, 'fuzz-report-'));
  stack = await startFuzzStack();
  account = await createFuzzAccount(stack.baseUrl, stack.platformKey);
});

afterAll(async () => {
  await stack?.stop();
  if (process.env.FUZZ_REPORT_DIR) figures.push(`reports (schemathesis NDJSON events, its output) in ${reportDir}`);
  if (figures.length > 0) process.stdout.write(`\n${figures.join('\n')}\n\n`);
});

function failuresOf(summary: FuzzSummary): string[] {
  const failures = summary.serverErrors.map((e) => `${e.label}: ${e.method} ${e.uri} ${e.requestBody} answered ${e.status} ${e.body}`);
  for (const [check, list] of summary.findings) {
    if (!failingChecks.has(check) || check === 'not_a_server_error') continue;
    for (const f of list) {
      if (accepted.some((a) => a.check === check && a.operation === f.label)) continue;
      failures.push(`${check} on ${f.label}: ${f.method} ${f.uri} -> ${f.status} ${f.message ?? ''}`);
    }
  }
  return failures;
}

describe('OpenAPI-driven fuzzing (schemathesis)', () => {
  test.each([
    ['owner', () => account.keys.owner],
    ['agent', () => account.keys.agent],
    // The ingress operations (customer messages, events, delivery statuses) take only service keys.
    ['service', () => account.keys.service],
  ])('no operation answers 5xx or outside its document, with the %s key', async (name, key) => {
    const summary = await runSchemathesis({
      binary,
      baseUrl: stack.baseUrl,
      key: key(),
      account,
      dir: path.join(reportDir, name),
      maxExamples,
      seed,
      excludePaths: excludedPaths,
    });
    figures.push(describeRun(name, summary));
    expect(summary.operations.size).toBeGreaterThan(40);
    expect(failuresOf(summary)).toEqual([]);
  });
});

/** `accepts`: the media types its request body is documented with. */
type Operation = { method: string; path: string; hasBody: boolean; raw: boolean; accepts: string[] };

async function operationsWithBodies(): Promise<Operation[]> {
  const doc = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema?: { description?: string } }> } }>>;
  };
  const operations: Operation[] = [];
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!op.requestBody) continue;
      operations.push({ method: method.toUpperCase(), path: p, hasBody: true, raw: p.startsWith('/webhooks/'), accepts: Object.keys(op.requestBody.content) });
    }
  }
  return operations;
}

function concrete(p: string): string {
  const values: Record<string, string> = {
    accountId: account.id,
    conversationId: account.conversationId,
    userId: account.users.target,
    channel: account.channel,
    keyId: 'no-such-key',
    sessionId: 'no-such-session',
    broadcastId: 'no-such-broadcast',
  };
  return p.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? 'x'));
}

describe('malformed bodies on every operation that takes one', () => {
  test('each answers 4xx in the error envelope, never 5xx, with or without a key', async () => {
    const operations = await operationsWithBodies();
    expect(operations.length).toBeGreaterThan(25);
    const bad: string[] = [];
    const statuses = new Map<number, number>();
    let cases = 0;
    for (const op of operations) {
      const auth: Record<string, string> = op.raw ? { 'x-hub-signature-256': 'sha256=00' } : { authorization: `Bearer ${account.keys.owner}` };
      for (const m of malformedBodies) {
        for (const withKey of op.raw ? [true] : [true, false]) {
          const reply = await send(stack.baseUrl, op.method, concrete(op.path), m.body, { ...m.headers, ...(withKey ? auth : {}) });
          cases += 1;
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          const where = `${op.method} ${op.path} with ${m.name}${withKey ? '' : ' (no key)'}`;
          if (reply.status === 0) continue; // answered and closed before the whole body was sent (a 413 the client could not read)
          // A body of a type the operation takes other than JSON (a media upload's text/plain) is a file, not a malformed body.
          const type = m.headers['content-type']?.split(';')[0]?.trim();
          if (withKey && type !== undefined && type !== 'application/json' && op.accepts.includes(type) && reply.status < 300) continue;
          if (reply.status >= 500 || (reply.status < 400 && !m.mayBeEmpty)) bad.push(`${where}: ${reply.status} ${reply.text.slice(0, 200)}`);
          else if (reply.status >= 400 && reply.status !== 429 && !/^\{"error":\{"code":"[a-z_]+","message":"/.test(reply.text)) bad.push(`${where}: ${reply.status} not an error envelope: ${reply.text.slice(0, 200)}`);
        }
      }
      const truncated = await sendTruncated(stack.baseUrl, concrete(op.path), op.raw ? {} : { authorization: `Bearer ${account.keys.owner}` });
      cases += 1;
      if (truncated !== undefined && truncated >= 500) bad.push(`${op.method} ${op.path} with a truncated body: ${truncated}`);
    }
    const fivexx = [...statuses.entries()].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
    figures.push(
      `malformed bodies: ${operations.length} operations, ${cases} cases, ${fivexx} 5xx; statuses: ${[...statuses.entries()]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s || 'closed'}: ${n}`)
        .join(', ')}`,
    );
    expect(bad).toEqual([]);
    // The API still serves afterwards.
    expect((await fetch(`${stack.baseUrl}/v1/me`, { headers: { authorization: `Bearer ${account.keys.owner}` } })).status).toBe(200);
  });
});

/**
 * The stream schemathesis leaves out: its inputs by hand, each request aborted once its status is read
 * (a stream that opened would answer for ever). A 429 (too many streams for the user) is not a failure.
 */
describe('the event stream, with odd inputs', () => {
  const huge = '9'.repeat(40);
  const inputs: { name: string; query?: string; headers?: Record<string, string> }[] = [
    { name: 'Last-Event-ID: garbage', headers: { 'last-event-id': 'not-an-id' } },
    { name: 'Last-Event-ID: far beyond the end', headers: { 'last-event-id': '999999999999999.999999' } },
    { name: 'Last-Event-ID: a number beyond 2^53', headers: { 'last-event-id': huge.slice(0, 15) + '.' + huge.slice(0, 6) } },
    { name: 'Last-Event-ID: negative', headers: { 'last-event-id': '-1' } },
    { name: 'Last-Event-ID: 0', headers: { 'last-event-id': '0' } },
    { name: 'lastEventId too long', query: `lastEventId=${huge}${huge}` },
    { name: 'lastEventId twice', query: 'lastEventId=1&lastEventId=2' },
    { name: 'an unknown ticket', query: 'token=nope' },
    { name: 'a ticket of 201 characters', query: `token=${'t'.repeat(201)}` },
    { name: 'tabId of odd characters', query: `tabId=${encodeURIComponent('\u0000<script>')}` },
    { name: 'an unknown parameter', query: 'follow=1' },
    { name: 'a nested parameter', query: 'tabId[a]=1' },
  ];

  test('each answers 200, 4xx or 429, never 5xx', async () => {
    const bad: string[] = [];
    for (const input of inputs) {
      for (const key of [account.keys.agent, undefined]) {
        const controller = new AbortController();
        const headers: Record<string, string> = { ...input.headers, ...(key ? { authorization: `Bearer ${key}` } : {}) };
        const res = await fetch(`${stack.baseUrl}/v1/accounts/${account.id}/stream${input.query ? `?${input.query}` : ''}`, { headers, signal: controller.signal });
        controller.abort();
        if (res.status >= 500) bad.push(`${input.name}${key ? '' : ' (no key)'}: ${res.status}`);
      }
    }
    figures.push(`stream: ${inputs.length * 2} cases, ${bad.length} 5xx`);
    expect(bad).toEqual([]);
  });
});

describe('after the fuzzing', () => {
  test('the API logged nothing at error level', () => {
    const lines = errorLines(stack.logs.api).map((e) => `${String(e.msg)} ${JSON.stringify(e.err ?? e.bodyError ?? '').slice(0, 300)}`);
    figures.push(`API error-level log lines: ${lines.length}`);
    expect(lines).toEqual([]);
  });
});
