import type { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
// Not re-exported from the package root; the encoder is what the SDK's own tests use to register keys.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { conversationSearchAttributes } from '../workflows/conversation/search-attributes';

/**
 * What a Temporal cluster must have before convoflow's worker and API can use it: the namespace, and every
 * search attribute the workflows upsert (workflows/conversation/search-attributes.ts), registered with
 * its type. Without them every customer message fails inside Temporal (a start with an unmapped search
 * attribute is rejected), so the worker and the API check at start (`checkTemporalSetup`) and stop with
 * a message that says what is missing and what fixes it; `npm run setup:temporal`, or TEMPORAL_SETUP=register,
 * registers what is missing where the cluster lets the application do so (`applyTemporalSetup`).
 */

export type TemporalSetupProblem =
  | { kind: 'namespace-missing'; namespace: string }
  | { kind: 'search-attribute-missing'; name: string; type: SearchAttributeType }
  | { kind: 'search-attribute-wrong-type'; name: string; type: SearchAttributeType; registeredAs: string };

export type TemporalTarget = {
  address: string;
  namespace: string;
  /** An API key is Temporal Cloud's way in; so is a `*.tmprl.cloud` address. */
  apiKey?: string;
};

/** Thrown by ensureTemporalSetup; the message is meant for an operator's terminal as it is. */
export class TemporalSetupError extends Error {
  override name = 'TemporalSetupError';
  constructor(
    message: string,
    readonly problems: TemporalSetupProblem[],
  ) {
    super(message);
  }
}

type Keys = readonly SearchAttributeKey<SearchAttributeType>[];

// gRPC status codes the checks tell apart.
const grpc = { notFound: 5, permissionDenied: 7, unimplemented: 12, unauthenticated: 16 } as const;

function grpcCode(error: unknown): number | undefined {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** True for errors that mean "this caller may not do that" rather than "that failed". */
function isNotAllowed(error: unknown): boolean {
  const code = grpcCode(error);
  return code === grpc.permissionDenied || code === grpc.unimplemented || code === grpc.unauthenticated;
}

export function isTemporalCloud(target: TemporalTarget): boolean {
  return /\.tmprl\.cloud:\d+$/.test(target.address) || target.apiKey !== undefined;
}

/** The namespace and search attributes that are missing or wrong; empty when the cluster is ready. */
export async function checkTemporalSetup(connection: Connection, namespace: string, keys: Keys = conversationSearchAttributes): Promise<TemporalSetupProblem[]> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (error) {
    if (grpcCode(error) === grpc.notFound) return [{ kind: 'namespace-missing', namespace }];
    throw error;
  }
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const problems: TemporalSetupProblem[] = [];
  for (const key of keys) {
    const registered = customAttributes?.[key.name];
    if (registered === undefined || registered === null) problems.push({ kind: 'search-attribute-missing', name: key.name, type: key.type });
    else if (registered !== encodeSearchAttributeIndexedValueType(key.type)) {
      const known = Object.values(SearchAttributeType).find((t) => encodeSearchAttributeIndexedValueType(t) === registered);
      const registeredAs = known ? cliTypeName(known) : `type ${String(registered)}`;
      problems.push({ kind: 'search-attribute-wrong-type', name: key.name, type: key.type, registeredAs });
    }
  }
  return problems;
}

/** CLI and tcld spell the types in CamelCase: Keyword, KeywordList, Datetime. */
export function cliTypeName(type: SearchAttributeType): string {
  return type
    .toLowerCase()
    .split('_')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/** The operator-facing text: one line per problem, then the commands that fix them on this kind of cluster. */
export function describeProblems(problems: TemporalSetupProblem[], target: TemporalTarget, opts: { refused?: string } = {}): string {
  const ns = target.namespace;
  const lines = problems.map((p) => {
    switch (p.kind) {
      case 'namespace-missing':
        return `- namespace ${p.namespace} does not exist on ${target.address}`;
      case 'search-attribute-missing':
        return `- search attribute ${p.name} (${cliTypeName(p.type)}) is not registered on namespace ${ns}`;
      case 'search-attribute-wrong-type':
        return `- search attribute ${p.name} is registered on namespace ${ns} as ${p.registeredAs}, but convoflow needs ${cliTypeName(p.type)}; a type cannot be changed, so use another namespace`;
    }
  });
  const missingKeys = problems.filter((p) => p.kind === 'search-attribute-missing');
  const fixes: string[] = [];
  if (isTemporalCloud(target)) {
    if (problems.some((p) => p.kind === 'namespace-missing')) {
      fixes.push(`Temporal Cloud: create the namespace in the Cloud UI (Namespaces > Create) or with \`tcld namespace create --namespace ${ns} ...\`, then register the search attributes below.`);
    }
    const all = problems.some((p) => p.kind === 'namespace-missing') ? conversationSearchAttributes.map((k) => ({ name: k.name, type: k.type })) : missingKeys;
    if (all.length > 0) {
      const flags = all.map((k) => `--search-attribute "${k.name}=${cliTypeName(k.type)}"`).join(' ');
      fixes.push(
        `Temporal Cloud does not let an application register search attributes: add them in the Cloud UI (Namespaces > ${ns} > Custom Search Attributes) ` +
          `or with \`tcld namespace search-attributes add --namespace ${ns} ${flags}\`.`,
      );
    }
  } else if (problems.some((p) => p.kind !== 'search-attribute-wrong-type')) {
    fixes.push(
      opts.refused
        ? `The cluster does not let these credentials do it (${opts.refused}): someone with operator rights must run \`npm run setup:temporal\` or the commands below.`
        : `Run \`npm run setup:temporal\` once with the same TEMPORAL_* settings (it creates the namespace if needed and registers the search attributes), ` +
            `or start with TEMPORAL_SETUP=register to let this process do it.`,
    );
    if (missingKeys.length > 0) {
      const commands = missingKeys.map((k) => `temporal operator search-attribute create --address ${target.address} --namespace ${ns} --name ${k.name} --type ${cliTypeName(k.type)}`);
      fixes.push(`With the Temporal CLI instead:\n  ${commands.join('\n  ')}`);
    }
  }
  return `Temporal at ${target.address} is not set up for convoflow:\n${lines.join('\n')}\n${fixes.join('\n')}`;
}

export type ApplyOptions = {
  /** Retention of closed workflows when the namespace has to be created. */
  retentionDays?: number;
  log?: (line: string) => void;
  /** How long to wait for a new namespace and new search attributes to become visible. */
  timeoutMs?: number;
};

/**
 * Creates the namespace if it is missing and registers missing search attributes, then waits until the
 * cluster reports them. A cluster that refuses (Temporal Cloud: the operator API is not open to
 * applications) gets a TemporalSetupError with the Cloud instructions. Wrong types are never "fixed".
 */
export async function applyTemporalSetup(connection: Connection, target: TemporalTarget, opts: ApplyOptions = {}): Promise<string[]> {
  const log = opts.log ?? (() => undefined);
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const done: string[] = [];
  let problems = await checkTemporalSetup(connection, target.namespace);
  const refuse = (error: unknown): never => {
    throw new TemporalSetupError(describeProblems(problems, target, { refused: error instanceof Error ? error.message : String(error) }), problems);
  };
  if (problems.some((p) => p.kind === 'namespace-missing')) {
    log(`creating namespace ${target.namespace}`);
    try {
      await connection.workflowService.registerNamespace({
        namespace: target.namespace,
        workflowExecutionRetentionPeriod: msToTs(`${opts.retentionDays ?? 3} days`),
      });
    } catch (error) {
      if (isNotAllowed(error)) refuse(error);
      // ALREADY_EXISTS: another process created it meanwhile.
      if (grpcCode(error) !== 6) throw error;
    }
    done.push(`created namespace ${target.namespace}`);
  }
  for (;;) {
    try {
      problems = await checkTemporalSetup(connection, target.namespace);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      problems = [{ kind: 'namespace-missing', namespace: target.namespace }];
    }
    const wrong = problems.filter((p) => p.kind === 'search-attribute-wrong-type');
    if (wrong.length > 0) throw new TemporalSetupError(describeProblems(wrong, target), wrong);
    if (problems.length === 0) return done;
    const missing = problems.filter((p) => p.kind === 'search-attribute-missing');
    // A namespace just created is known to every service only after their namespace caches refresh.
    if (missing.length > 0) {
      log(`registering search attributes ${missing.map((p) => p.name).join(', ')} on namespace ${target.namespace}`);
      try {
        await registerSearchAttributes(connection, target.namespace, missing);
        for (const p of missing) if (!done.includes(`registered ${p.name}`)) done.push(`registered ${p.name}`);
      } catch (error) {
        if (isNotAllowed(error)) refuse(error);
        if (Date.now() > deadline) throw error;
      }
    }
    if (Date.now() > deadline) throw new TemporalSetupError(describeProblems(problems, target), problems);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * The one call that registers search attributes, for every server convoflow runs on: applyTemporalSetup
 * (production clusters, `npm run setup:temporal`, and the dev server of `npm start`, the tests and the
 * bench, dev/local-servers.ts) and, directly, the time-skipping test server, which implements
 * AddSearchAttributes but not ListSearchAttributes and so cannot be checked first
 * (test/workflows/support.ts).
 */
export async function registerSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly { name: string; type: SearchAttributeType }[] = conversationSearchAttributes,
): Promise<void> {
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(keys.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])),
  });
}

/**
 * The start-up check the worker and the API run before they serve: with `register`, what is missing is
 * registered (where allowed); otherwise a missing piece stops the process with a TemporalSetupError.
 * A cluster that will not answer the check (e.g. the operator API is closed to this key) is logged and
 * let through: the requests themselves then answer 503 with what Temporal said.
 */
export async function ensureTemporalSetup(
  connection: Connection,
  target: TemporalTarget,
  opts: { register: boolean; log?: { info(msg: string): void; warn(msg: string): void } },
): Promise<void> {
  let problems: TemporalSetupProblem[];
  try {
    problems = await checkTemporalSetup(connection, target.namespace);
  } catch (error) {
    if (!isNotAllowed(error)) throw error;
    opts.log?.warn(
      `could not check namespace ${target.namespace}'s search attributes (${error instanceof Error ? error.message : String(error)}); ` +
        `make sure ${conversationSearchAttributes.map((k) => `${k.name} (${cliTypeName(k.type)})`).join(', ')} are registered`,
    );
    return;
  }
  if (problems.length === 0) return;
  if (!opts.register) throw new TemporalSetupError(describeProblems(problems, target), problems);
  const done = await applyTemporalSetup(connection, target, { log: (line) => opts.log?.info(line) });
  opts.log?.info(`Temporal set up: ${done.join(', ')}`);
}
