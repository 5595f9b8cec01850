import type { RoutingConfig } from '../../routing/routing';
import { manualRouting } from '../../routing/routing';
import { formatDuration, parseDuration } from './durations';

/**
 * An account's lifecycle policy as the engine uses it: plain JSON with durations in milliseconds, so it
 * crosses continue-as-new unchanged. A preset is nothing but a full set of these values (SPEC section
 * 3); the rules read fields, never preset names, and every field can be overridden one by one.
 */
export type PresetName = 'default' | 'status_inbox' | 'work_items';

/** How long an agent's capacity stays blocked while a conversation is in wrap-up (seed 004). */
export type WrapUpCapacity = 'always' | 'never' | number;

export interface PolicyFields {
  /** An assigned conversation with no customer message for this long closes (`inactivity`); null: never. */
  autoCloseAfterMs: number | null;
  /** Free-form replies are allowed for this long after the last customer message (WhatsApp's 24h). */
  serviceWindowMs: number;
  /** Open or assigned conversations with no activity at all for this long close (`idle`); null: never. */
  idleCloseAfterMs: number | null;
  /** Automations may run a conversation (`in_flow`, seed 002). */
  flows: boolean;
  /** Resolving sends a satisfaction survey and waits in `resolved` for the answer or the timeout (seed 002). */
  csat: { enabled: boolean; template: string; timeoutMs: number };
  /** Tags can no longer be removed once the conversation closed (seed 002). */
  lockTagsOnClose: boolean;
  /** Closing archives the conversation: it leaves the default inbox lists (seed 002). */
  autoArchive: boolean;
  /** Broadcasts reach only closed conversations unless sent with priority (seed 002). */
  broadcastsOnlyToClosed: boolean;
  /** An agent may leave without ending: `waiting`, closed after this much inactivity; null: no waiting state (seed 004). */
  waitingTimeoutMs: number | null;
  /** Ending goes through `wrap_up`, blocking capacity as configured; null: ending closes at once (seed 004). */
  wrapUpCapacity: WrapUpCapacity | null;
  /** An assigned conversation whose agent disconnected returns to open unless they reconnect within this; null: it stays. */
  agentReconnectTimeoutMs: number | null;
  /** A customer who leaves before assignment closes an open conversation, and one who leaves an assigned one ends it (seed 004). */
  customerLeaveEnds: boolean;
  routing: RoutingConfig;
}

export interface Policy extends Partial<PolicyFields> {
  preset: PresetName;
  autoCloseAfterMs: number | null;
  serviceWindowMs: number;
  /** Increases on every change, so a running conversation ignores an older policy that arrives late. */
  version: number;
}

const hour = 3_600_000;

const defaultFields: PolicyFields = {
  autoCloseAfterMs: 48 * hour,
  serviceWindowMs: 24 * hour,
  idleCloseAfterMs: null,
  flows: false,
  csat: { enabled: false, template: 'csat_survey', timeoutMs: 24 * hour },
  lockTagsOnClose: false,
  autoArchive: false,
  broadcastsOnlyToClosed: false,
  waitingTimeoutMs: null,
  wrapUpCapacity: null,
  agentReconnectTimeoutMs: null,
  customerLeaveEnds: false,
  routing: manualRouting,
};

/** The three lifecycles of the seeds, as data. */
export const presets: Record<PresetName, PolicyFields> = {
  // Seeds 000, 001, 003: open, assigned, closed; 48h inactivity close; manual assignment.
  default: defaultFields,
  // Seed 002: statuses with automations (in_flow), CSAT (resolved), locked tags, broadcasts to closed.
  status_inbox: {
    ...defaultFields,
    autoCloseAfterMs: null,
    flows: true,
    csat: { enabled: true, template: 'csat_survey', timeoutMs: 24 * hour },
    lockTagsOnClose: true,
    broadcastsOnlyToClosed: true,
  },
  // Seed 004: work items with waiting and wrap-up, capacity, disconnects and customers leaving.
  work_items: {
    ...defaultFields,
    autoCloseAfterMs: null,
    waitingTimeoutMs: 24 * hour,
    wrapUpCapacity: 'always',
    agentReconnectTimeoutMs: 5 * 60_000,
    customerLeaveEnds: true,
  },
};

/** Every field resolved: the preset's values under the account's overrides. */
export function effective(policy: Policy): PolicyFields & { preset: PresetName; version: number } {
  const fields = { ...presets[policy.preset ?? 'default'] };
  for (const key of Object.keys(fields) as (keyof PolicyFields)[]) {
    const own = policy[key];
    if (own !== undefined) (fields as Record<string, unknown>)[key] = own;
  }
  return { ...fields, preset: policy.preset ?? 'default', version: policy.version };
}

export const defaultPolicy: Policy = { preset: 'default', ...defaultFields, version: 0 };

export function routingOf(policy: Policy): RoutingConfig {
  return policy.routing ?? presets[policy.preset ?? 'default'].routing;
}

/** The policy as the HTTP API reads and writes it: durations as strings like "48h", null for "off". */
export interface PolicyDocument {
  preset: PresetName;
  autoCloseAfter: string | null;
  serviceWindow: string;
  idleCloseAfter: string | null;
  flows: boolean;
  csat: { enabled: boolean; template: string; timeout: string };
  lockTagsOnClose: boolean;
  autoArchive: boolean;
  broadcastsOnlyToClosed: boolean;
  waitingTimeout: string | null;
  wrapUpCapacity: 'always' | 'never' | string | null;
  agentReconnectTimeout: string | null;
  customerLeaveEnds: boolean;
  routing: RoutingConfig;
  version: number;
}

const text = (ms: number | null) => (ms === null ? null : formatDuration(ms));

export function policyToDocument(policy: Policy): PolicyDocument {
  const e = effective(policy);
  return {
    preset: e.preset,
    autoCloseAfter: text(e.autoCloseAfterMs),
    serviceWindow: formatDuration(e.serviceWindowMs),
    idleCloseAfter: text(e.idleCloseAfterMs),
    flows: e.flows,
    csat: { enabled: e.csat.enabled, template: e.csat.template, timeout: formatDuration(e.csat.timeoutMs) },
    lockTagsOnClose: e.lockTagsOnClose,
    autoArchive: e.autoArchive,
    broadcastsOnlyToClosed: e.broadcastsOnlyToClosed,
    waitingTimeout: text(e.waitingTimeoutMs),
    wrapUpCapacity: typeof e.wrapUpCapacity === 'number' ? formatDuration(e.wrapUpCapacity) : e.wrapUpCapacity,
    agentReconnectTimeout: text(e.agentReconnectTimeoutMs),
    customerLeaveEnds: e.customerLeaveEnds,
    routing: e.routing,
    version: e.version,
  };
}

/** The changes a caller asks for, in string form; every field optional, null switches a timer off. */
export interface PolicyPatch {
  preset?: PresetName;
  autoCloseAfter?: string | null;
  serviceWindow?: string;
  idleCloseAfter?: string | null;
  flows?: boolean;
  csat?: { enabled?: boolean; template?: string; timeout?: string };
  lockTagsOnClose?: boolean;
  autoArchive?: boolean;
  broadcastsOnlyToClosed?: boolean;
  waitingTimeout?: string | null;
  wrapUpCapacity?: 'always' | 'never' | string | null;
  agentReconnectTimeout?: string | null;
  customerLeaveEnds?: boolean;
  routing?: Partial<RoutingConfig>;
}

/**
 * Applies a patch on top of a policy and bumps its version. Choosing a preset starts again from that
 * preset's values (earlier overrides are dropped); the other fields of the same patch override it.
 * Throws `PolicyError` naming the field when a value does not parse or is out of range.
 */
export function applyPolicyPatch(base: Policy, patch: PolicyPatch): Policy {
  const next: Policy =
    patch.preset !== undefined && patch.preset !== base.preset
      ? { preset: patch.preset, ...presets[patch.preset], version: base.version + 1 }
      : { ...effective(base), version: base.version + 1 };
  if (patch.autoCloseAfter !== undefined) next.autoCloseAfterMs = optionalDuration('autoCloseAfter', patch.autoCloseAfter);
  if (patch.serviceWindow !== undefined) next.serviceWindowMs = durationField('serviceWindow', patch.serviceWindow);
  if (patch.idleCloseAfter !== undefined) next.idleCloseAfterMs = optionalDuration('idleCloseAfter', patch.idleCloseAfter);
  if (patch.flows !== undefined) next.flows = patch.flows;
  if (patch.csat !== undefined) {
    const csat = effective(next).csat;
    next.csat = {
      enabled: patch.csat.enabled ?? csat.enabled,
      template: patch.csat.template ?? csat.template,
      timeoutMs: patch.csat.timeout !== undefined ? durationField('csat.timeout', patch.csat.timeout) : csat.timeoutMs,
    };
  }
  if (patch.lockTagsOnClose !== undefined) next.lockTagsOnClose = patch.lockTagsOnClose;
  if (patch.autoArchive !== undefined) next.autoArchive = patch.autoArchive;
  if (patch.broadcastsOnlyToClosed !== undefined) next.broadcastsOnlyToClosed = patch.broadcastsOnlyToClosed;
  if (patch.waitingTimeout !== undefined) next.waitingTimeoutMs = optionalDuration('waitingTimeout', patch.waitingTimeout);
  if (patch.wrapUpCapacity !== undefined) next.wrapUpCapacity = wrapUpField(patch.wrapUpCapacity);
  if (patch.agentReconnectTimeout !== undefined) next.agentReconnectTimeoutMs = optionalDuration('agentReconnectTimeout', patch.agentReconnectTimeout);
  if (patch.customerLeaveEnds !== undefined) next.customerLeaveEnds = patch.customerLeaveEnds;
  if (patch.routing !== undefined) next.routing = { ...routingOf(next), ...patch.routing };
  return next;
}

export class PolicyError extends Error {
  override name = 'PolicyError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const minDurationMs = 1_000;
const maxDurationMs = 365 * 86_400_000;

function durationField(field: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new PolicyError(field, `"${text}" is not a duration like "48h", "30m" or "5s"`);
  if (ms < minDurationMs || ms > maxDurationMs) throw new PolicyError(field, 'must be between 1s and 365d');
  return ms;
}

function optionalDuration(field: string, text: string | null): number | null {
  return text === null ? null : durationField(field, text);
}

function wrapUpField(value: string | null): WrapUpCapacity | null {
  if (value === null || value === 'always' || value === 'never') return value;
  const ms = durationField('wrapUpCapacity', value);
  // Seed 004: the agent's capacity may be blocked for 1 to 60 minutes.
  if (ms < 60_000 || ms > 3_600_000) throw new PolicyError('wrapUpCapacity', 'must be "always", "never" or between 1m and 60m');
  return ms;
}
