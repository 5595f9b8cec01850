import type { Conversation, Me } from './api';

/** A button the conversation pane offers: the route suffix it posts to, and what it needs. */
export type Action =
  | { kind: 'claim'; label: string }
  | { kind: 'assign'; label: string }
  | { kind: 'simple'; route: 'take-over' | 'resolve' | 'release' | 'end' | 'leave' | 'revive' | 'unsnooze'; label: string }
  | { kind: 'transfer'; label: string }
  /** SPEC 9: opens the snooze menu (1 hour, tomorrow 9:00, before the window closes, a chosen time). */
  | { kind: 'snooze'; label: string };

const presetActions: Record<string, { release: boolean; transfer: boolean; workItems: boolean }> = {
  default: { release: false, transfer: false, workItems: false },
  status_inbox: { release: true, transfer: false, workItems: false },
  work_items: { release: true, transfer: true, workItems: true },
};

/**
 * What the signed-in user may try now, from their role, the conversation's status and who holds it
 * (SPEC sections 2-4). The API has the last word: a refusal is shown in its own words.
 */
export function actionsFor(me: Me, preset: string, c: Conversation): Action[] {
  const supervisor = me.role !== 'agent';
  const mine = c.assigneeId === me.userId;
  const p = presetActions[preset] ?? presetActions.default!;
  const out: Action[] = [];
  const simple = (route: Extract<Action, { kind: 'simple' }>['route'], label: string) => out.push({ kind: 'simple', route, label });
  switch (c.status) {
    case 'open':
      out.push({ kind: 'claim', label: 'Claim' });
      if (supervisor) out.push({ kind: 'assign', label: 'Assign to…' });
      if (p.transfer) out.push({ kind: 'transfer', label: 'Transfer to team…' });
      if (supervisor) out.push({ kind: 'snooze', label: 'Snooze…' });
      break;
    case 'in_flow':
      if (supervisor) out.push({ kind: 'assign', label: 'Assign to…' });
      break;
    case 'assigned':
      if (!mine && supervisor) simple('take-over', 'Take over');
      if (mine || supervisor) {
        out.push({ kind: 'assign', label: mine && !supervisor ? 'Reassign to…' : 'Assign to…' });
        simple('resolve', 'Resolve');
        out.push({ kind: 'snooze', label: 'Snooze…' });
        if (p.release) simple('release', 'Release to queue');
        if (p.transfer) out.push({ kind: 'transfer', label: 'Transfer to team…' });
        if (p.workItems) {
          simple('end', 'End (wrap-up)');
          simple('leave', 'Leave (waiting)');
        }
      }
      break;
    case 'waiting':
      if (mine || supervisor) {
        simple('revive', 'Revive');
        simple('end', 'End');
      }
      break;
    case 'wrap_up':
      if (mine || supervisor) simple('end', 'Finish wrap-up');
      break;
    case 'snoozed':
      if (mine || supervisor) {
        simple('unsnooze', 'Unsnooze');
        out.push({ kind: 'snooze', label: 'Snooze again…' });
        simple('resolve', 'Resolve');
      }
      break;
    default:
      break;
  }
  return out;
}

/** The tabs: the four every account has, then the preset's own statuses. */
export function tabsFor(preset: string): { id: string; label: string }[] {
  const base = [
    { id: 'open', label: 'Open' },
    { id: 'mine', label: 'Mine' },
    { id: 'assigned', label: 'Assigned' },
  ];
  const extra: Record<string, { id: string; label: string }[]> = {
    status_inbox: [
      { id: 'in_flow', label: 'In flow' },
      { id: 'resolved', label: 'Resolved' },
    ],
    work_items: [
      { id: 'waiting', label: 'Waiting' },
      { id: 'wrap_up', label: 'Wrap-up' },
    ],
  };
  // SPEC 9: every preset can snooze.
  return [...base, ...(extra[preset] ?? []), { id: 'snoozed', label: 'Snoozed' }, { id: 'closed', label: 'Closed' }];
}

/** Whether a conversation belongs in a tab's list (the same filter the list route applies). */
export function inTab(tab: string, me: Me, c: Conversation): boolean {
  if (c.archived) return false;
  return tab === 'mine' ? c.assigneeId === me.userId : c.status === tab;
}

export function tabQuery(tab: string): string {
  return tab === 'mine' ? 'assignee=me' : `status=${tab}`;
}
