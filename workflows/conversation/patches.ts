import { patched } from '@temporalio/workflow';

/**
 * Every patch id the conversation workflow asks (`patched(...)`), with the change it guards. An id is
 * never renamed or removed while a run recorded before it may still be replayed (test/replay).
 */

/** Runs that continued as new before 2026-11-27 did not reload the stored policy at their start. */
export const policyReloadPatch = 'policy-reload-on-run-start';

/** Outbound delivery (SPEC section 7): runs that recorded sends before it existed never send them again. */
export const outboundDeliveryPatch = 'outbound-delivery';

/**
 * Runs from before 2026-11-27 continued as new at every episode end; since then a close stays in the run
 * (a burst of auto-closes then costs one workflow task and one write each, not a second run start), and
 * only the history budget or the server's suggestion ends a run.
 */
export const closeInRunPatch = 'close-in-run';

/**
 * Runs from before 2026-12-06 applied a new policy to their deadlines but wrote no view for it: the
 * stored view (and the stream) kept the old window expiry and auto-close at the same version until the
 * next input. Since then a policy that changes anything the view shows moves the version and persists.
 */
export const viewFollowsPolicyPatch = 'view-follows-policy';

/**
 * Runs from before 2026-12-06 labelled each timer with the deadlines due at its instant when it was
 * armed ("windowExpiry at ..."), a label that went false as soon as a customer message moved the
 * deadline later (the timer is kept, see `armTimer`). Since then a timer is labelled with what it does,
 * which stays true while it is pending; the deadlines themselves are in the run's current details.
 */
export const timerLabelPatch = 'timer-label-wake-up';

/**
 * Runs from before 2026-12-06 recorded a customer message signal as it came, whatever its size and keys
 * (a 5,000-character text, an attribute `utm.source` the store refused). Since then a signal is brought
 * within the field limits first (`withinLimits` in messages.ts, core/limits.ts).
 */
export const inputLimitsPatch = 'input-limits';

/**
 * Runs from before 2026-12-06 that started from nothing (signal-with-start, not continue-as-new) began
 * from the initial state even when the conversation existed (its previous run was terminated or failed):
 * seqs and `out-{n}` ids restarted and the view stood still. Since then such a run reads the policy and
 * the stored conversation in one local activity (`loadRunStart`) and continues from the views.
 */
export const recoverFromStorePatch = 'recover-from-store';

/**
 * Runs from before 2026-12-06 deduplicated customer messages by the window of the newest 500 ids only:
 * a message replayed after 500 later ones was recorded again (and reopened a closed conversation).
 * Since then an id the window cannot answer for is looked up in the `messages` collection first
 * (core/dedupe.ts); a conversation that recorded fewer customer messages than the window never asks.
 */
export const durableDedupePatch = 'durable-dedupe';

/**
 * Runs from before 2026-12-06 had no SLA clocks (SPEC 9, issue 25). Since then a run seeds `state.sla`
 * at its start (`withSlaState`; a carried or recovered state without it starts from `initialSla` at its
 * status), every decision feeds the SLA clock (core/conversation-sla.ts), and the next SLA warning or
 * breach joins the deadlines the one wake-up timer waits for. A run that did not take the patch keeps no
 * `sla`, which switches all of it off.
 */
export const slaClocksPatch = 'sla-clocks';

/**
 * Runs from before 2026-12-06 had no answer-or-reroute (SPEC 9, `answerWithin`). Since then a run seeds
 * `state.answer` at its start (`withAnswerState`), and an assigned conversation whose customer waits
 * longer than `answerWithin` for a user's message returns to open (`unanswered`) and is routed to
 * someone else. A run that did not take the patch keeps no `answer`, which switches it off.
 */
export const answerWithinPatch = 'answer-within';

/**
 * Runs from before 2026-12-06 sent no out-of-office reply (SPEC 9). Since then a run seeds
 * `state.outOfOffice` at its start (`withOutOfOfficeState`), and a customer message outside business
 * hours gets the policy's text from the system (core/out-of-office.ts). A run that did not take the
 * patch keeps no `outOfOffice`, which switches it off.
 */
export const outOfOfficePatch = 'out-of-office';

/**
 * Runs from before 2026-12-06 could not be snoozed (SPEC 9). Since then a run seeds `state.snoozedUntil`
 * at its start (`withSnoozeState`), which lets `snooze` through; a run that did not take the patch keeps
 * no such field and refuses `snooze` with `conflict` until its next run (like `priority` without
 * `sla-clocks`), so no running conversation gains the status, its timer or its wake-ups mid-run.
 */
export const snoozePatch = 'snooze';

/**
 * Runs from before 2026-12-07 gave every send outcome and receipt a new version, so a reply's `sent`
 * cost a second whole persist (view, episode row, stream) for a change no view shows. Since then a
 * delivery decision that changes only the outbox and the early receipts keeps its version
 * (core/light-delivery.ts) and is flushed as a light batch: the delivery and a stream entry, no view.
 */
export const lightDeliveryPatch = 'light-delivery';

/**
 * Runs started from 2026-12-07 ask this one patch, first, instead of each patch above: every patch a run
 * asks costs it a marker and an upsert of Temporal's `TemporalChangeVersion` search attribute (two
 * history events and a visibility write), so each run's start cost 11 markers and 11 upserts, 22 events,
 * before its first decision. A run that took this one has every patch above; a run from before it
 * answers false here and asks each of them as it did (`PatchSet`). A later patch is asked on its own.
 */
export const patchSet20261207 = 'patch-set-2026-12-07';

/** Whether the run takes a patch: `patched` itself, or true at once in a run that took the patch set. */
export type PatchSet = (patchId: string) => boolean;

/**
 * Workflow code only, first of all in a run's first activation (see workflow.ts for why there): asks the
 * patch set once and answers the run's `PatchSet`.
 */
export function askPatchSet(): PatchSet {
  const tookPatchSet = patched(patchSet20261207);
  return (patchId) => tookPatchSet || patched(patchId);
}
