import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { FuzzAccount } from './fuzz-account';

/**
 * One schemathesis run over the API's served OpenAPI document with one key, and what it found, read from
 * its NDJSON event report (every request and response it made, and each check's verdict), not from its
 * exit code: the tier decides itself what fails (a 5xx always; see `failingChecks`).
 */

/**
 * Checks whose failure fails the tier: a server error, a status, content type, header or body the
 * document does not describe, and an operation that answers 2xx without credentials. The others
 * (whether an input the schema allows was accepted, one it forbids was refused, the Allow header) judge
 * how much of a rule the document spells out; they are printed as document findings.
 */
export const failingChecks = new Set([
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'ignored_auth',
]);

/**
 * Node's HTTP parser answers 431 itself, with no body, to a request line and headers over 16 KiB, before
 * any route runs: no operation's document can describe it, so checks on such answers are not counted
 * (they are in the status figures).
 */
const beforeAnyRoute = new Set([431]);

export type Interaction = { label: string; method: string; uri: string; requestBody: string; status: number; body: string; check?: string; message?: string };

export type FuzzSummary = {
  /** Operations schemathesis sent at least one request to, as `METHOD /path`. */
  operations: Set<string>;
  /** Requests made (each generated case is one request). */
  cases: number;
  statuses: Map<number, number>;
  serverErrors: Interaction[];
  /** Failed checks by check name, one example per operation. */
  findings: Map<string, Interaction[]>;
  seconds: number;
};

export type RunOptions = {
  binary: string;
  baseUrl: string;
  key: string;
  account: FuzzAccount;
  /** Folder for the config file and the reports. */
  dir: string;
  maxExamples: number;
  seed: number;
  /** Operations left out, by path (schemathesis --exclude-path). */
  excludePaths: string[];
};

/**
 * Path parameters are the fuzz account's, so requests get past 404 to the code behind it (schemathesis'
 * coverage phase ignores dictionaries drawn with a probability, so fixed values it is; the parameters
 * left free, key, broadcast and session ids, are generated). `userId` names the one user the fuzzer may
 * change at will: a generated rotation or deactivation never hits the keys the run uses.
 */
function configFile(account: FuzzAccount): string {
  const fixed: Record<string, string> = {
    accountId: account.id,
    conversationId: account.conversationId,
    userId: account.users.target,
    channel: account.channel,
  };
  // No failure cache: each run is its seed's alone, not a replay of what earlier runs found.
  const lines: string[] = ['[cache]', 'enabled = false', '[parameters]'];
  for (const [name, value] of Object.entries(fixed)) lines.push(`"path.${name}" = ${JSON.stringify(value)}`);
  return lines.join('\n') + '\n';
}

export async function runSchemathesis(opts: RunOptions): Promise<FuzzSummary> {
  fs.mkdirSync(opts.dir, { recursive: true });
  const config = path.join(opts.dir, 'schemathesis.toml');
  fs.writeFileSync(config, configFile(opts.account));
  const ndjson = path.join(opts.dir, 'events.ndjson');
  const args = [
    '--config-file',
    config,
    '--no-color',
    'run',
    `${opts.baseUrl}/openapi.json`,
    '--header',
    `Authorization: Bearer ${opts.key}`,
    '--checks',
    'all',
    '--max-examples',
    String(opts.maxExamples),
    '--seed',
    String(opts.seed),
    '--workers',
    '2',
    '--request-timeout',
    '20',
    '--phases',
    'examples,coverage,fuzzing',
    '--suppress-health-check',
    'all',
    '--generation-database',
    'none',
    '--output-truncate',
    'true',
    '--report',
    'ndjson',
    '--report-ndjson-path',
    ndjson,
    ...opts.excludePaths.flatMap((p) => ['--exclude-path', p]),
  ];
  const started = Date.now();
  const output = await new Promise<string>((resolve, reject) => {
    // In the report folder, so nothing it writes (a .schemathesis/ folder) lands in the working tree.
    const child = spawn(opts.binary, args, { cwd: opts.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.once('error', reject);
    child.once('close', () => resolve(text));
  });
  fs.writeFileSync(path.join(opts.dir, 'output.txt'), output);
  const summary = readEvents(ndjson);
  if (summary === undefined) throw new Error(`schemathesis did not finish its run; its output:\n${output.split('\n').slice(-30).join('\n')}`);
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

type Recorder = {
  label: string;
  checks?: Record<string, { name: string; status: string; failure_info?: { failure?: { title?: string; message?: string } } }[]>;
  interactions?: Record<string, { request: { method: string; uri: string; body?: { $base64?: string; string?: string } }; response?: { status_code: number; content?: { $base64?: string } } }>;
};

function bodyOf(content: { $base64?: string } | undefined): string {
  return content?.$base64 ? Buffer.from(content.$base64, 'base64').toString('utf8').slice(0, 300) : '';
}

/** The run's figures from its NDJSON events; undefined when the engine never finished. */
export function readEvents(file: string): FuzzSummary | undefined {
  if (!fs.existsSync(file)) return undefined;
  const summary: FuzzSummary = { operations: new Set(), cases: 0, statuses: new Map(), serverErrors: [], findings: new Map(), seconds: 0 };
  let finished = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const event = JSON.parse(line) as Record<string, { recorder?: Recorder; status?: string }>;
    if (event.EngineFinished) finished = true;
    const recorder = event.ScenarioFinished?.recorder;
    if (!recorder || event.ScenarioFinished?.status === 'skip') continue;
    for (const [caseId, interaction] of Object.entries(recorder.interactions ?? {})) {
      const status = interaction.response?.status_code;
      if (status === undefined) continue;
      summary.operations.add(recorder.label);
      summary.cases += 1;
      summary.statuses.set(status, (summary.statuses.get(status) ?? 0) + 1);
      const seen: Interaction = {
        label: recorder.label,
        method: interaction.request.method,
        uri: interaction.request.uri,
        requestBody: interaction.request.body?.string ?? bodyOf(interaction.request.body),
        status,
        body: bodyOf(interaction.response?.content),
      };
      if (status >= 500) summary.serverErrors.push(seen);
      if (beforeAnyRoute.has(status)) continue;
      for (const check of recorder.checks?.[caseId] ?? []) {
        if (check.status !== 'failure') continue;
        const list = summary.findings.get(check.name) ?? [];
        if (!list.some((f) => f.label === recorder.label)) {
          const failure = check.failure_info?.failure;
          list.push({ ...seen, check: check.name, message: [failure?.title, failure?.message].filter(Boolean).join(': ').slice(0, 300) });
        }
        summary.findings.set(check.name, list);
      }
    }
  }
  return finished ? summary : undefined;
}

/** A few lines a person reads in the CI log: the figures, then each finding with one example. */
export function describe(name: string, s: FuzzSummary): string {
  const statuses = [...s.statuses.entries()].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`).join(', ');
  const fivexx = [...s.statuses.entries()].filter(([status]) => status >= 500).reduce((n, [, c]) => n + c, 0);
  const lines = [
    `schemathesis with the ${name} key: ${s.operations.size} operations, ${s.cases} cases, ${fivexx} 5xx, ${s.statuses.get(429) ?? 0} 429 (${s.seconds.toFixed(0)} s)`,
    `  statuses: ${statuses}`,
  ];
  for (const e of s.serverErrors.slice(0, 8)) lines.push(`  5xx ${e.method} ${e.uri.slice(0, 160)} ${e.requestBody.slice(0, 300)} -> ${e.status} ${e.body}`);
  for (const [check, list] of [...s.findings.entries()].sort()) {
    lines.push(`  ${failingChecks.has(check) ? 'FAIL' : 'note'} ${check} (${list.length} operations)`);
    for (const f of list.slice(0, 8)) lines.push(`    ${f.label}: ${f.method} ${f.uri.slice(0, 160)} -> ${f.status} ${f.message ?? ''}`.trimEnd());
  }
  return lines.join('\n');
}
