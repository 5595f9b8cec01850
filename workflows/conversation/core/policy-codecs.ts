/**
 * The ways a policy field can look on the wire, one codec per shape: its API schema (zod, built by the
 * API from the kit it passes in, so the workflow bundle never loads zod), the runtime value's wire form
 * (`toWire`, for the document the API answers), and a patch value's runtime form (`fromPatch`, which
 * validates ranges and throws `PolicyError` naming the field). A new field picks a codec in
 * `policyFields` (policy.ts); only a new shape needs a codec here.
 */
import type { z } from 'zod';
import type { RoutingConfig } from '../../routing/routing';
import type { BusinessHours } from './business-hours';
import { parseBusinessHours, weekdays } from './business-hours';
import { formatDuration, parseDuration } from './durations';
import type { SlaMetric, SlaPriority, SlaTargets } from './sla';
import { slaMetrics, slaPriorities } from './sla';
import { PolicyError } from './errors';

export { PolicyError, isPolicyError } from './errors';

export const hour = 3_600_000;

/** How long an agent's capacity stays blocked while a conversation is in wrap-up (seed 004). */
export type WrapUpCapacity = 'always' | 'never' | number;

/** The schemas the API shares with its other routes, handed to each codec's `schema`. */
export interface PolicySchemaKit {
  z: typeof z;
  /** A duration string the API accepts ("48h", "30m", "5s"). */
  duration: z.ZodType<string>;
  templateName: z.ZodType<string>;
  routingPatch: z.ZodType<Partial<RoutingConfig>>;
}

export interface Codec<Runtime, Wire, Patch> {
  /** The field's API schema (the patch form; every field is optional in a patch). */
  schema(kit: PolicySchemaKit): z.ZodType<Patch>;
  toWire(value: Runtime): Wire;
  /** `current` is the field's effective value, which a partial patch (csat, routing) is merged into. */
  fromPatch(field: string, value: Patch, current: Runtime): Runtime;
}

export interface PolicyField<Runtime, Wire, Patch, Name extends string> {
  codec: Codec<Runtime, Wire, Patch>;
  /** The field's name in the API (the runtime name without its unit: `autoCloseAfterMs` ↔ `autoCloseAfter`). */
  wire: Name;
  default: Runtime;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the table's entries, each checked at its declaration
export type AnyField = PolicyField<any, any, any, string>;

export function field<R, W, P, N extends string>(codec: Codec<R, W, P>, wire: N, fallback: NoInfer<R>): PolicyField<R, W, P, N> {
  return { codec, wire, default: fallback };
}

const minDurationMs = 1_000;
const maxDurationMs = 365 * 86_400_000;

function durationField(field: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new PolicyError({ field, message: `"${text}" is not a duration like "48h", "30m" or "5s"` });
  if (ms < minDurationMs || ms > maxDurationMs) throw new PolicyError({ field, message: 'must be between 1s and 365d' });
  return ms;
}

const flag: Codec<boolean, boolean, boolean> = {
  schema: ({ z }) => z.boolean(),
  toWire: (value) => value,
  fromPatch: (_field, value) => value,
};

/** SPEC 10: when convoflow marks the customer's latest message read at WhatsApp. */
export const markReadModes = ['on_reply', 'on_open', 'never'] as const;
export type MarkRead = (typeof markReadModes)[number];

const markRead: Codec<MarkRead, MarkRead, MarkRead> = {
  schema: ({ z }) => z.enum(markReadModes),
  toWire: (value) => value,
  fromPatch: (_field, value) => value,
};

const duration: Codec<number, string, string> = {
  schema: (kit) => kit.duration,
  toWire: (ms) => formatDuration(ms),
  fromPatch: (field, text) => durationField(field, text),
};

/** A timer that can be switched off: null on both sides. */
const optionalDuration: Codec<number | null, string | null, string | null> = {
  schema: (kit) => kit.duration.nullable(),
  toWire: (ms) => (ms === null ? null : formatDuration(ms)),
  fromPatch: (field, text) => (text === null ? null : durationField(field, text)),
};

const wrapUpCapacity: Codec<WrapUpCapacity | null, 'always' | 'never' | string | null, 'always' | 'never' | string | null> = {
  schema: ({ z, duration }) => z.union([z.enum(['always', 'never']), duration]).nullable(),
  toWire: (value) => (typeof value === 'number' ? formatDuration(value) : value),
  fromPatch: (field, value) => {
    if (value === null || value === 'always' || value === 'never') return value;
    const ms = durationField(field, value);
    // Seed 004: the agent's capacity may be blocked for 1 to 60 minutes.
    if (ms < 60_000 || ms > 3_600_000) throw new PolicyError({ field, message: 'must be "always", "never" or between 1m and 60m' });
    return ms;
  },
};

type Csat = { enabled: boolean; template: string; timeoutMs: number };
const csat: Codec<Csat, { enabled: boolean; template: string; timeout: string }, { enabled?: boolean; template?: string; timeout?: string }> = {
  schema: ({ z, templateName, duration }) =>
    z.strictObject({ enabled: z.boolean().optional(), template: templateName.optional(), timeout: duration.optional() }),
  toWire: (value) => ({ enabled: value.enabled, template: value.template, timeout: formatDuration(value.timeoutMs) }),
  fromPatch: (field, patch, current) => ({
    enabled: patch.enabled ?? current.enabled,
    template: patch.template ?? current.template,
    timeoutMs: patch.timeout !== undefined ? durationField(`${field}.timeout`, patch.timeout) : current.timeoutMs,
  }),
};

const routing: Codec<RoutingConfig, RoutingConfig, Partial<RoutingConfig>> = {
  schema: (kit) => kit.routingPatch,
  toWire: (value) => value,
  fromPatch: (_field, patch, current) => ({ ...current, ...patch }),
};

/**
 * SPEC 9's business hours: the API schema checks the shape (and documents it in OpenAPI);
 * `parseBusinessHours` checks the meaning (zone, "HH:MM", order, overlaps) and names the path it rejects,
 * e.g. `businessHours.weekly.mon[1]`. Null: always open.
 *
 * The runtime (stored) form writes each period as one string "09:00-13:00": FerretDB refuses nested
 * arrays ("nested arrays are not supported"), and the policy is stored in the account document.
 * `businessHoursOf` gives back the calendar's form.
 */
type Period = [string, string];
type BusinessHoursWire = { timezone: string; weekly: Partial<Record<(typeof weekdays)[number], Period[]>>; holidays?: string[] };
export interface StoredBusinessHours {
  timezone: string;
  weekly: Partial<Record<(typeof weekdays)[number], string[]>>;
  holidays?: string[];
}
function toStored(hours: BusinessHours): StoredBusinessHours {
  const weekly = Object.fromEntries(Object.entries(hours.weekly).map(([day, periods]) => [day, (periods ?? []).map(([from, to]) => `${from}-${to}`)]));
  return { timezone: hours.timezone, weekly, ...(hours.holidays !== undefined ? { holidays: [...hours.holidays] } : {}) };
}
/** The calendar's form of stored business hours (periods as pairs again). */
export function businessHoursOf(stored: StoredBusinessHours): BusinessHours {
  const weekly = Object.fromEntries(
    Object.entries(stored.weekly).map(([day, periods]) => [day, (periods ?? []).map((p) => p.split('-') as Period)]),
  ) as BusinessHours['weekly'];
  return { timezone: stored.timezone, weekly, ...(stored.holidays !== undefined ? { holidays: [...stored.holidays] } : {}) };
}
const businessHours: Codec<StoredBusinessHours | null, BusinessHoursWire | null, BusinessHoursWire | null> = {
  schema: ({ z }) => {
    const period = z.tuple([z.string(), z.string()]);
    const weekly = z.strictObject(Object.fromEntries(weekdays.map((d) => [d, z.array(period).optional()])) as Record<(typeof weekdays)[number], z.ZodOptional<z.ZodArray<typeof period>>>);
    return z.strictObject({ timezone: z.string(), weekly, holidays: z.array(z.string()).optional() }).nullable() as unknown as z.ZodType<BusinessHoursWire | null>;
  },
  toWire: (value) => (value === null ? null : businessHoursOf(value)),
  fromPatch: (field, value) => {
    if (value === null) return null;
    const parsed = parseBusinessHours(value);
    if (parsed.ok) return toStored(parsed.value);
    // parseBusinessHours names the path from "businessHours"; keep the deepest path as the field.
    const [first] = parsed.errors;
    const match = /^([^:]+): (.*)$/.exec(first ?? '');
    const path = match?.[1] ?? field;
    throw new PolicyError({ field: path.startsWith(field) ? path : field, message: match?.[2] ?? first ?? 'is not valid business hours' });
  },
};

/**
 * SPEC 9's SLA targets per priority, durations as strings, null = that metric off. A patch replaces each
 * priority it names whole (as `sla.ts` reads an entry: metrics left out are off); a priority set to null
 * is removed (it then uses `normal`'s); `sla: null` removes every target.
 */
export type SlaTargetsMs = { [P in SlaPriority]?: SlaTargets };
type SlaTargetsWire = { [P in SlaPriority]?: { [M in SlaMetric]?: string | null } };
type SlaPatch = { [P in SlaPriority]?: { [M in SlaMetric]?: string | null } | null } | null;
const sla: Codec<SlaTargetsMs, SlaTargetsWire, SlaPatch> = {
  schema: ({ z, duration }) => {
    const targets = z.strictObject({ firstResponse: duration.nullable().optional(), nextResponse: duration.nullable().optional(), resolution: duration.nullable().optional() });
    return z.strictObject({ urgent: targets.nullable().optional(), high: targets.nullable().optional(), normal: targets.nullable().optional(), low: targets.nullable().optional() }).nullable();
  },
  toWire: (value) => {
    const wire: SlaTargetsWire = {};
    for (const priority of slaPriorities) {
      const targets = value[priority];
      if (targets === undefined) continue;
      const out: { [M in SlaMetric]?: string | null } = {};
      for (const metric of slaMetrics) {
        const ms = targets[metric];
        if (ms !== undefined) out[metric] = ms === null ? null : formatDuration(ms);
      }
      wire[priority] = out;
    }
    return wire;
  },
  fromPatch: (field, patch, current) => {
    if (patch === null) return {};
    const next: SlaTargetsMs = { ...current };
    for (const priority of slaPriorities) {
      const targets = patch[priority];
      if (targets === undefined) continue;
      if (targets === null) {
        delete next[priority];
        continue;
      }
      const out: SlaTargets = {};
      for (const metric of slaMetrics) {
        const text = targets[metric];
        if (text !== undefined) out[metric] = text === null ? null : durationField(`${field}.${priority}.${metric}`, text);
      }
      next[priority] = out;
    }
    return next;
  },
};

/**
 * SPEC 9's out-of-office reply: the text the system sends to a customer who writes outside business
 * hours, at most once per `cooldown` (default 12h) per conversation. Null: off. A patch merges into the
 * current value, so `{ cooldown: "1h" }` keeps the text; turning it on needs a text.
 */
export type OutOfOffice = { text: string; cooldownMs: number };
/** The longest out-of-office text (a WhatsApp text body holds 4,096 characters). */
export const maxOutOfOfficeText = 4_096;
const outOfOffice: Codec<OutOfOffice | null, { text: string; cooldown: string } | null, { text?: string; cooldown?: string } | null> = {
  schema: ({ z, duration }) => z.strictObject({ text: z.string().max(maxOutOfOfficeText).optional(), cooldown: duration.optional() }).nullable(),
  toWire: (value) => (value === null ? null : { text: value.text, cooldown: formatDuration(value.cooldownMs) }),
  fromPatch: (field, patch, current) => {
    if (patch === null) return null;
    const text = patch.text ?? current?.text;
    if (text === undefined || text.trim() === '') throw new PolicyError({ field: `${field}.text`, message: 'is required: the reply a customer gets outside business hours' });
    if (text.length > maxOutOfOfficeText) throw new PolicyError({ field: `${field}.text`, message: `must be at most ${maxOutOfOfficeText} characters` });
    const cooldownMs = patch.cooldown !== undefined ? durationField(`${field}.cooldown`, patch.cooldown) : (current?.cooldownMs ?? 12 * hour);
    return { text, cooldownMs };
  },
};

/** A flag whose default follows another field (`slaBusinessHoursOnly`): null = that default. */
const optionalFlag: Codec<boolean | null, boolean | null, boolean | null> = {
  schema: ({ z }) => z.boolean().nullable(),
  toWire: (value) => value,
  fromPatch: (_field, value) => value,
};

export const codecs = { flag, optionalFlag, duration, optionalDuration, wrapUpCapacity, csat, routing, businessHours, sla, outOfOffice, markRead };
