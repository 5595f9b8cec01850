import type { RoutingConfig } from '../../routing/routing';
import { manualRouting } from '../../routing/routing';
import type { AnyField, PolicyField } from './policy-codecs';
import { codecs, field, hour } from './policy-codecs';
import type { SlaPolicy } from './sla';

export { PolicyError, isPolicyError } from './policy-codecs';
export type { OutOfOffice, WrapUpCapacity } from './policy-codecs';

/**
 * An account's lifecycle policy as the engine uses it: plain JSON with durations in milliseconds, so it
 * crosses continue-as-new unchanged. A preset is nothing but a full set of these values (SPEC section
 * 3); the rules read fields, never preset names, and every field can be overridden one by one.
 */
export type PresetName = 'default' | 'status_inbox' | 'work_items';

/**
 * Every policy field, declared once (STYLE habit 18): its default, its name and API schema on the wire,
 * and how the API's form becomes the runtime value and back (`codecs` below). The runtime type
 * (`PolicyFields`), the document the API answers (`PolicyDocument`), the patch it accepts
 * (`PolicyPatch`, and its zod schema in api/schemas.ts), the defaults and both conversions are derived
 * from this table; adding a field is one entry here plus the rule that reads it.
 */
export const policyFields = {
  /** An assigned conversation with no customer message for this long closes (`inactivity`); null: never. */
  autoCloseAfterMs: field(codecs.optionalDuration, 'autoCloseAfter', 48 * hour),
  /** Free-form replies are allowed for this long after the last customer message (WhatsApp's 24h). */
  serviceWindowMs: field(codecs.duration, 'serviceWindow', 24 * hour),
  /** Open or assigned conversations with no activity at all for this long close (`idle`); null: never. */
  idleCloseAfterMs: field(codecs.optionalDuration, 'idleCloseAfter', null),
  /** Automations may run a conversation (`in_flow`, seed 002). */
  flows: field(codecs.flag, 'flows', false),
  /** Resolving sends a satisfaction survey and waits in `resolved` for the answer or the timeout (seed 002). */
  csat: field(codecs.csat, 'csat', { enabled: false, template: 'csat_survey', timeoutMs: 24 * hour }),
  /** Tags can no longer be removed once the conversation closed (seed 002). */
  lockTagsOnClose: field(codecs.flag, 'lockTagsOnClose', false),
  /** Closing archives the conversation: it leaves the default inbox lists (seed 002). */
  autoArchive: field(codecs.flag, 'autoArchive', false),
  /** Broadcasts reach only closed conversations unless sent with priority (seed 002). */
  broadcastsOnlyToClosed: field(codecs.flag, 'broadcastsOnlyToClosed', false),
  /** An agent may leave without ending: `waiting`, closed after this much inactivity; null: no waiting state (seed 004). */
  waitingTimeoutMs: field(codecs.optionalDuration, 'waitingTimeout', null),
  /** Ending goes through `wrap_up`, blocking capacity as configured; null: ending closes at once (seed 004). */
  wrapUpCapacity: field(codecs.wrapUpCapacity, 'wrapUpCapacity', null),
  /** An assigned conversation whose agent disconnected returns to open unless they reconnect within this; null: it stays. */
  agentReconnectTimeoutMs: field(codecs.optionalDuration, 'agentReconnectTimeout', null),
  /** A customer who leaves before assignment closes an open conversation, and one who leaves an assigned one ends it (seed 004). */
  customerLeaveEnds: field(codecs.flag, 'customerLeaveEnds', false),
  /** How conversations reach agents (workflows/routing). */
  routing: field(codecs.routing, 'routing', manualRouting),
  /** The account's business hours (SPEC 9); null: always open. */
  businessHours: field(codecs.businessHours, 'businessHours', null),
  /** SLA targets per priority in ms (SPEC 9; core/sla.ts); {}: no SLA. */
  sla: field(codecs.sla, 'sla', {}),
  /**
   * SLA clocks count business time only. Null: the default, true exactly when business hours are set;
   * the document reads back the boolean in force (`slaBusinessHoursOnlyInForce`).
   */
  slaBusinessHoursOnly: field(codecs.optionalFlag, 'slaBusinessHoursOnly', null),
  /** An `sla_warning` fires this much counted time before a breach; null: no warnings. */
  slaWarnBeforeMs: field(codecs.optionalDuration, 'slaWarnBefore', null),
  /** The system's reply to a customer message outside business hours, once per cooldown (SPEC 9); null: none. */
  outOfOffice: field(codecs.outOfOffice, 'outOfOffice', null),
  /** An assigned conversation whose assignee leaves a customer message unanswered this long returns to open, reason `unanswered` (SPEC 9); null: never. */
  answerWithinMs: field(codecs.optionalDuration, 'answerWithin', null),
  /** `snooze { until: "window" }` wakes this long before the 24-hour window closes (SPEC 9). */
  snoozeWakeBeforeWindowMs: field(codecs.duration, 'snoozeWakeBeforeWindow', hour),
  /**
   * SPEC 10: the customer's latest message is marked read at WhatsApp when the assignee replies
   * (`on_reply`), also when they open the conversation in the inbox (`on_open`), or never. The API
   * acts on it (api/provider-reads.ts); the conversation's rules never read it.
   */
  markRead: field(codecs.markRead, 'markRead', 'on_reply'),
};

type Fields = typeof policyFields;
type FieldName = keyof Fields;
type RuntimeOf<F> = F extends PolicyField<infer R, unknown, unknown, string> ? R : never;
type WireOf<F> = F extends PolicyField<unknown, infer W, unknown, string> ? W : never;
type PatchOf<F> = F extends PolicyField<unknown, unknown, infer P, string> ? P : never;

/** The policy's fields as the engine reads them: durations in ms (derived from `policyFields`). */
export type PolicyFields = { [K in FieldName]: RuntimeOf<Fields[K]> };

/** The field names in declaration order (the order of the API's documents and schemas). */
export const policyFieldNames = Object.keys(policyFields) as FieldName[];

export interface Policy extends Partial<PolicyFields> {
  preset: PresetName;
  autoCloseAfterMs: number | null;
  serviceWindowMs: number;
  /** Increases on every change, so a running conversation ignores an older policy that arrives late. */
  version: number;
}

const defaultFields = Object.fromEntries(policyFieldNames.map((name) => [name, policyFields[name].default])) as PolicyFields;

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

export type EffectivePolicy = PolicyFields & { preset: PresetName; version: number };

/**
 * The policies `effective` answered. A resolved policy is frozen, so it stays what it was resolved to,
 * and resolving it again answers it as it is. The deadlines, the view and the SLA clock each resolve the
 * policy they are given, and resolving copies every field; so a caller resolves once and hands the
 * resolved object down, and the helpers it calls resolve it for nothing. Sharing this set across the
 * workflows of one isolate changes no answer: membership only says an object is already resolved.
 */
const resolved = new WeakSet<object>();

/** Every field resolved: the preset's values under the account's overrides. Frozen; idempotent. */
export function effective(policy: Policy): EffectivePolicy {
  if (resolved.has(policy)) return policy as EffectivePolicy;
  const fields = { ...presets[policy.preset ?? 'default'] };
  for (const key of Object.keys(fields) as (keyof PolicyFields)[]) {
    const own = policy[key];
    if (own !== undefined) (fields as Record<string, unknown>)[key] = own;
  }
  const out: EffectivePolicy = Object.freeze({ ...fields, preset: policy.preset ?? 'default', version: policy.version });
  resolved.add(out);
  return out;
}

export const defaultPolicy: Policy = { preset: 'default', ...defaultFields, version: 0 };

/** SPEC 9: `slaBusinessHoursOnly` defaults to true when business hours are set. */
export function slaBusinessHoursOnlyInForce(fields: Pick<PolicyFields, 'businessHours' | 'slaBusinessHoursOnly'>): boolean {
  return fields.slaBusinessHoursOnly ?? fields.businessHours !== null;
}

/** The SLA module's view of a policy (core/sla.ts): targets, warning lead, whether business time only counts. */
export function slaPolicyOf(policy: Policy): SlaPolicy {
  const e = effective(policy);
  return { targets: e.sla, warnBeforeMs: e.slaWarnBeforeMs, businessHoursOnly: slaBusinessHoursOnlyInForce(e) };
}

export function routingOf(policy: Policy): RoutingConfig {
  return policy.routing ?? presets[policy.preset ?? 'default'].routing;
}

/** The policy as the HTTP API reads and writes it: durations as strings like "48h", null for "off". */
export type PolicyDocument = { preset: PresetName } & { -readonly [K in FieldName as Fields[K]['wire']]: WireOf<Fields[K]> } & { version: number };

export function policyToDocument(policy: Policy): PolicyDocument {
  const e = effective(policy);
  const document: Record<string, unknown> = { preset: e.preset };
  for (const name of policyFieldNames) {
    const f = policyFields[name] as AnyField;
    document[f.wire] = f.codec.toWire(e[name]);
  }
  // SPEC 9: read back as the boolean in force, not the "follow the default" null.
  document.slaBusinessHoursOnly = slaBusinessHoursOnlyInForce(e);
  document.version = e.version;
  return document as PolicyDocument;
}

/** The changes a caller asks for, in string form; every field optional, null switches a timer off. */
export type PolicyPatch = { preset?: PresetName } & { -readonly [K in FieldName as Fields[K]['wire']]?: PatchOf<Fields[K]> };

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
  for (const name of policyFieldNames) {
    const f = policyFields[name] as AnyField;
    const value = (patch as Record<string, unknown>)[f.wire];
    // The field's current value is what a partial patch (csat, routing) is merged into.
    if (value !== undefined) (next as unknown as Record<string, unknown>)[name] = f.codec.fromPatch(f.wire, value, effective(next)[name]);
  }
  return next;
}
