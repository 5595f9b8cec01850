import type { RoutingConfig } from '../routing/routing';
import { manualRouting } from '../routing/routing';
import { formatDuration, parseDuration } from './durations';

/**
 * An account's lifecycle policy as the engine uses it: plain JSON with durations in milliseconds, so it
 * crosses continue-as-new unchanged. The API stores and shows the string form (`PolicyDocument`).
 */
export interface Policy {
  /** Which lifecycle preset the account runs; only the default (SPEC section 2) exists so far. */
  preset: 'default';
  /** An assigned conversation with no customer message for this long closes with reason `inactivity`. */
  autoCloseAfterMs: number;
  /** Free-form replies are allowed for this long after the last customer message (WhatsApp's 24h). */
  serviceWindowMs: number;
  /** Automatic assignment (SPEC section 4); absent in policies carried from before routing existed. */
  routing?: RoutingConfig;
  /** Increases on every change, so a running conversation ignores an older policy that arrives late. */
  version: number;
}

/** The policy as the HTTP API reads and writes it: durations as strings like "48h". */
export interface PolicyDocument {
  preset: 'default';
  autoCloseAfter: string;
  serviceWindow: string;
  routing: RoutingConfig;
  version: number;
}

export const defaultPolicy: Policy = {
  preset: 'default',
  autoCloseAfterMs: 48 * 3_600_000,
  serviceWindowMs: 24 * 3_600_000,
  routing: manualRouting,
  version: 0,
};

export function routingOf(policy: Policy): RoutingConfig {
  return policy.routing ?? manualRouting;
}

export function policyToDocument(policy: Policy): PolicyDocument {
  return {
    preset: policy.preset,
    autoCloseAfter: formatDuration(policy.autoCloseAfterMs),
    serviceWindow: formatDuration(policy.serviceWindowMs),
    routing: routingOf(policy),
    version: policy.version,
  };
}

/** The changes a caller asks for, in string form; every field optional. */
export interface PolicyPatch {
  preset?: 'default';
  autoCloseAfter?: string;
  serviceWindow?: string;
  routing?: Partial<RoutingConfig>;
}

/**
 * Applies a patch on top of a policy and bumps its version. Throws `PolicyError` naming the field when
 * a duration does not parse or is out of range; the API validates shape before, this validates meaning.
 */
export function applyPolicyPatch(base: Policy, patch: PolicyPatch): Policy {
  const next: Policy = { ...base, version: base.version + 1 };
  if (patch.preset !== undefined) next.preset = patch.preset;
  if (patch.autoCloseAfter !== undefined) next.autoCloseAfterMs = durationField('autoCloseAfter', patch.autoCloseAfter);
  if (patch.serviceWindow !== undefined) next.serviceWindowMs = durationField('serviceWindow', patch.serviceWindow);
  if (patch.routing !== undefined) next.routing = { ...routingOf(base), ...patch.routing };
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
