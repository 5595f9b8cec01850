/**
 * What the Temporal Web UI shows about a run (the operator's view): its live description, and the
 * summary of a timer as runs from before the `timer-label-wake-up` patch wrote it. Pure text; the shell
 * hands it to `setCurrentDetails` or a timer.
 */
import { slaContextOf } from './conversation-sla';
import { deadlines } from './deadlines';
import { slaMetrics, slaView } from './sla';
import type { ConversationState } from './model';
import type { Policy } from './policy';
import { defaultPolicy, effective } from './policy';
import { deadlineLabel, wakeUpLabel } from './timer-labels';
import { iso, toView } from './view';

/**
 * The run's live description: what the conversation is now, not what the run started with, its pending
 * deadlines in words, and when its timer next wakes it to check them.
 */
export function describe(state: ConversationState, policy: Policy | undefined, wakeUp?: number | null): string {
  const current = effective(policy ?? defaultPolicy); // once for the view, the deadlines and the SLA line
  const view = toView(state, current);
  const queued = state.outbox.filter((e) => e.status === 'queued').length;
  const pending = deadlines(state, current)
    .sort((a, b) => a.at - b.at)
    .map((d) => deadlineLabel(d.kind, d.at, state, current));
  return [
    `**${view.status}**${view.assigneeId ? ` — assigned to \`${view.assigneeId}\`` : ''} · episode ${view.episode}`,
    `customer \`${view.customer}\` on channel \`${view.channel}\`, ${view.unreadCount} unread${queued > 0 ? `, ${queued} message(s) being sent` : ''}`,
    `window closes ${view.windowExpiresAt ?? '—'}; auto-close ${view.autoCloseAt ?? '—'}`,
    `deadlines: ${pending.length > 0 ? pending.join('; ') : 'none'}${wakeUp ? ` · ${wakeUpLabel(wakeUp)}` : ''}`,
    // SPEC 9: the SLA as the view shows it (only for runs with SLA clocks, so older runs read as before).
    ...(state.sla !== undefined ? [slaLine(state, current)] : []),
  ].join('\n\n');
}

function slaLine(state: ConversationState, policy: Policy): string {
  const sla = slaView(state.sla!, slaContextOf(policy));
  const due = slaMetrics.flatMap((m) => {
    const at = sla[`${m}DueAt`];
    return at === null ? [] : [`${m} due ${iso(at)}`];
  });
  const parts = [`priority ${state.sla!.priority ?? 'normal'}`, ...due, ...(sla.breached.length > 0 ? [`breached: ${sla.breached.join(', ')}`] : []), ...(sla.paused ? ['paused'] : [])];
  return `SLA: ${parts.join('; ')}`;
}

/** A timer's summary before the patch: the deadlines due at its instant when it was armed (it went false; see DESIGN.md). */
export function legacyTimerLabel(state: ConversationState, policy: Policy, due: number): string {
  const kinds = deadlines(state, policy)
    .filter((d) => d.at === due)
    .map((d) => d.kind);
  return `${kinds.join(', ') || 'deadline'} at ${iso(due)}`;
}
