/**
 * The durable shell around the pure core (`core/`, DESIGN.md): one workflow per conversation, living
 * across episodes. It registers the handlers, then runs one loop — inbox → decide → flush → wait. Every
 * decision comes from `decide`; its effects are written to MongoDB by one local activity per batch
 * (`toBatch`); the outbox (`outbox.ts`) sends, the policy (`policy-sync.ts`) stays current, and timers
 * follow the deadline in state without being cancelled (see `armTimer`). History is bounded by
 * continue-as-new on the history budget or the server's suggestion; episodes follow one another in the run.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  proxyLocalActivities,
  proxySinks,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { ConversationActivities, PersistBatch } from '../../activities/conversation-activities';
import { toBatch } from './core/batch';
import { needsStoreCheck } from './core/dedupe';
import { persistRefusal } from './core/errors';
import { actionInput, customer, signalInput, system } from './core/inputs';
import type { Actor, ConversationState, Decision, Effect, Input } from './core/lifecycle';
import { decide, initialState, nextDeadline, upgradeState } from './core/lifecycle';
import { legacyTimerLabel } from './core/operator-view';
import type { Policy } from './core/policy';
import { defaultPolicy } from './core/policy';
import { lightened } from './core/light-delivery';
import { recoveredState } from './core/recover';
import { settled } from './core/settle';
import { timerLabel } from './core/timer-labels';
import { restampedForPolicy, toView } from './core/view';
import type { ActionBase, ActionResult, ConversationRef, ConversationSinks, ConversationWorkflowInput } from './messages';
import * as m from './messages';
import { Outbox } from './outbox';
import {
  answerWithinPatch,
  askPatchSet,
  closeInRunPatch,
  durableDedupePatch,
  lightDeliveryPatch,
  outOfOfficePatch,
  recoverFromStorePatch,
  slaClocksPatch,
  snoozePatch,
  timerLabelPatch,
  viewFollowsPolicyPatch,
} from './patches';
import { withSlaState } from './core/conversation-sla';
import { withAnswerState } from './core/answer-within';
import { withOutOfOfficeState } from './core/out-of-office';
import { withSnoozeState } from './core/rules-snooze';
import { actionMessageId } from './core/rules-notes';
import type { SlaPriority } from './core/sla';
import { PolicySync } from './policy-sync';
import { WebUi, searchAttributePairs } from './web-ui';

/** The server suggests continue-as-new at ~4k events; a conversation rolls over well before that. */
const defaultHistoryEventBudget = 2_000;

const { loadPolicy, loadRunStart, persist, recordPersistFailure, recordedMessageIds } = proxyLocalActivities<ConversationActivities>({
  // Generous: under load FerretDB can take seconds, and a retry racing a slow first attempt wastes both.
  startToCloseTimeout: '30s',
  // A MongoDB outage must delay the views, never lose them: retry without limit, backing off to 10 s.
  retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/**
 * A signal the rules refused (a customer event for a conversation in the wrong state, a receipt from
 * nobody, ...) changes nothing; an integration sending bad input finds out from the worker, which logs
 * and counts it through this sink (not during replay), naming the conversation, input and reason.
 */
const { conversation: conversationSink } = proxySinks<ConversationSinks>();

type Accepted = Extract<Decision, { ok: true }>;

export async function conversationWorkflow(input: ConversationWorkflowInput): Promise<void> {
  const ref: ConversationRef = { accountId: input.accountId, channel: input.channel, customer: input.customer };
  const conversationId = m.conversationWorkflowId(ref);
  // The history length seen by the run's first workflow task; see the validator below for why.
  const firstTaskHistoryLength = workflowInfo().historyLength;
  const budget = input.limits?.historyEventBudget ?? defaultHistoryEventBudget;
  // Asked once, in the run's first activation, before anything awaits: asked later (after a local
  // activity), a query that splits the workflow task around the activity puts the marker into another
  // task than a replay does, which fails the replay (seen re-recording the histories). A run started by
  // older code answers false here for its whole life; its next run answers true.
  // First of all: a run that takes the patch set takes every patch before it without asking each one.
  const taken = askPatchSet();
  const viewFollowsPolicy = taken(viewFollowsPolicyPatch);
  const wakeUpLabels = taken(timerLabelPatch);

  const carried = input.carriedFromPreviousRun ?? input.carried;
  // A run that starts from nothing reads the store first: its conversation may have lived in a run that
  // was terminated or failed (SPEC section 12). Asked here, in the first activation, for the reason above.
  const recoverFromStore = !carried && taken(recoverFromStorePatch);
  const durableDedupe = taken(durableDedupePatch);
  // Asked in the first activation too; a run that takes it keeps `state.sla`, which switches the SLA on.
  const slaClocks = taken(slaClocksPatch);
  // The same for answer-or-reroute: a run that takes it keeps `state.answer`, which switches it on.
  const answerWithin = taken(answerWithinPatch);
  // And for out of office: `state.outOfOffice` switches the reply on.
  const outOfOffice = taken(outOfOfficePatch);
  // And for snooze (SPEC 9): a run that takes it keeps `state.snoozedUntil`, which lets `snooze` through.
  const snoozing = taken(snoozePatch);
  // A delivery decision that no view shows keeps its version and is flushed light (core/light-delivery.ts).
  const lightDelivery = taken(lightDeliveryPatch);
  /** Seeds the state each patch this run took keeps (SLA, answer-within, out of office, snooze). */
  const withPatchedFields = (s: ConversationState, priority: SlaPriority | null = null): ConversationState => {
    const withSla = slaClocks ? withSlaState(s, priority) : s;
    const withAnswer = answerWithin ? withAnswerState(withSla) : withSla;
    const withOoo = outOfOffice ? withOutOfOfficeState(withAnswer) : withAnswer;
    return snoozing ? withSnoozeState(withOoo) : withOoo;
  };
  let state: ConversationState = withPatchedFields(carried ? upgradeState(carried.state) : initialState({ conversationId, ...ref }));
  const pending: Effect[] = [...(carried?.pending ?? [])];
  // Inputs from signals (the customer, the router, the API), decided in arrival order by the main loop.
  const inbox: { input: Input; actor: Actor; policyVersion?: number }[] = [];
  // The views are current up to this state version; a carried run flushed before it continued.
  let flushedVersion = pending.length > 0 ? state.version - 1 : state.version;
  let episodeEnded = false;
  let wake = false;
  const policy = new PolicySync(ref.accountId, carried?.policy, loadPolicy, () => (wake = true), taken);
  // The policy the views were last written with (a carried run's were written by the run before it).
  let viewedPolicy: Policy | undefined = carried?.policy;
  const armedTimers: number[] = [];
  // Customer message ids outside the window whose store lookup answered (true: recorded before), for the
  // next drain of the inbox; emptied after it. See core/dedupe.ts.
  const storeAnswers = new Map<string, boolean>();

  const apply = (decision: Accepted): void => {
    if (!decision.changed) return;
    if (decision.state.status === 'closed' && state.status !== 'closed') episodeEnded = true;
    state = decision.state;
    pending.push(...decision.effects);
  };
  // Deadlines that passed are decided before any input (core/settle.ts says why).
  const settle = (current: Policy, now: number): void => {
    for (const decision of settled(state, current, now).decisions) apply(decision);
  };
  const decideOrFail = (action: Input, actor: Actor, current: Policy, base: ConversationState = state): Accepted => {
    const decision = decide(base, action, actor, current, Date.now());
    // The code travels as the failure type; the API maps codes to HTTP statuses, never messages.
    if (!decision.ok) throw ApplicationFailure.create({ type: decision.code, message: decision.message, nonRetryable: true });
    return decision;
  };

  // Handlers are registered before anything awaits: with signal-with-start the signal is delivered
  // in the first activation, before the main body continues.
  const queue = (next: Input, actor: Actor, policyVersion?: number): void => {
    inbox.push({ input: next, actor, policyVersion });
  };
  setHandler(m.customerMessageSignal, (message) => queue(signalInput.customerMessage(m.withinLimits(message, taken)), customer, message.policyVersion));
  setHandler(m.routedSignal, (offer) => queue(signalInput.routed(offer), system));
  setHandler(m.customerEventSignal, (event) => queue(signalInput.customerEvent(event), customer));
  setHandler(m.agentPresenceSignal, (presence) => queue(signalInput.agentPresence(presence), system));
  setHandler(m.releaseSignal, (release) => queue(signalInput.release(release), system));
  setHandler(m.deliveryStatusSignal, (status) => queue(signalInput.deliveryStatus(status), system));
  setHandler(m.policyChangedSignal, (next) => policy.offered(next));
  setHandler(m.conversationQuery, () => toView(state, policy.current ?? defaultPolicy));

  const registerAction = <A extends ActionBase>(update: UpdateDefinition<ActionResult, [A]>, toInput: (args: A) => Input): void => {
    setHandler(
      update,
      async (args: A): Promise<ActionResult> => {
        await condition(() => policy.current !== undefined);
        await policy.catchUp(args.policyVersion);
        settle(policy.current!, Date.now());
        const decision = decideOrFail(toInput(args), args.actor, policy.current!);
        apply(decision);
        const version = state.version;
        // Answer only once the change is in MongoDB, so a read right after the answer sees it.
        await condition(() => flushedVersion >= version);
        return { conversation: toView(state, policy.current!), messageId: actionMessageId(decision.effects) };
      },
      {
        // Synchronous on purpose: a rejected update is never written to history. Two exceptions let
        // the handler decide (and fail the update in history) instead: before the policy is loaded,
        // and inside the run's first workflow task, where the dev server (1.31) drops the whole task
        // when its only update is rejected, stalling the next task for the 10 s sticky timeout.
        validator: (args: A): void => {
          m.rejectOverLimit(toInput(args), state); // Field limits need no policy: checked always, first task included.
          const current = policy.current;
          // A caller who knows a newer policy than ours is decided by the handler, after it reloads.
          const stale = current !== undefined && (args.policyVersion ?? 0) > current.version;
          if (current && !stale && workflowInfo().historyLength !== firstTaskHistoryLength) {
            decideOrFail(toInput(args), args.actor, current, settled(state, current, Date.now()).state);
          }
        },
      },
    );
  };
  registerAction(m.replyUpdate, actionInput.reply);
  registerAction(m.templateUpdate, actionInput.template);
  registerAction(m.assignUpdate, actionInput.assign);
  registerAction(m.takeOverUpdate, actionInput.takeOver);
  registerAction(m.resolveUpdate, actionInput.resolve);
  registerAction(m.endUpdate, actionInput.end);
  registerAction(m.leaveUpdate, actionInput.leave);
  registerAction(m.reviveUpdate, actionInput.revive);
  registerAction(m.releaseToQueueUpdate, actionInput.releaseToQueue);
  registerAction(m.transferUpdate, actionInput.transfer);
  registerAction(m.tagsUpdate, actionInput.tags);
  registerAction(m.flowUpdate, actionInput.flow);
  registerAction(m.broadcastUpdate, actionInput.broadcast);
  registerAction(m.priorityUpdate, actionInput.priority);
  registerAction(m.snoozeUpdate, actionInput.snooze);
  registerAction(m.unsnoozeUpdate, actionInput.unsnooze);
  registerAction(m.noteUpdate, actionInput.note);

  const outbox = new Outbox({
    ref,
    conversationId,
    state: () => state,
    flushedVersion: () => flushedVersion,
    replaceState: (next) => (state = next),
    feed: (decided) => queue(decided, system),
    taken,
  });
  void outbox.run();

  let current: Policy;
  if (recoverFromStore) {
    const start = await loadRunStart({ accountId: ref.accountId, conversationId });
    if (start.stored) {
      // Inputs queued meanwhile are decided by the loop, from this state; updates wait for the policy below.
      // The stored views hold no SLA spans: a recovered conversation's SLA starts afresh at its status.
      state = withPatchedFields(recoveredState({ conversationId, ...ref }, start.stored), start.stored.view.priority ?? null);
      flushedVersion = state.version;
    }
    current = policy.startWith(start.policy);
  } else {
    current = await policy.start();
  }
  const ui = new WebUi(carried ? state : undefined);
  // Every run describes itself from its first task (the UI shows it on the run's page); a continued run
  // has no static summary of its own, since continue-as-new cannot set one.
  if (carried) ui.describe(state, current);

  const armTimer = (now: number, due: number, current: Policy): void => {
    // A timer already set to fire before this deadline wakes us in time, and we then sleep the
    // remainder. So a deadline that moves later (every customer message) costs no timer events.
    if (armedTimers.some((at) => at > now && at <= due)) return;
    armedTimers.push(due);
    let summary: string;
    if (wakeUpLabels) {
      // The instant it wakes the loop, and what it was armed for: the deadlines due then, in words. A
      // customer message may move them later and keep this timer (a new timer per message would cost two
      // history events per message), so the label says what the timer was armed for, which stays true;
      // the deadlines as they are now are in the run's details. Not a command: no patch needed.
      summary = timerLabel(state, current, due);
      ui.describe(state, current, nextWakeUp(now));
    } else {
      summary = legacyTimerLabel(state, current, due);
    }
    void sleep(due - now, { summary }).then(() => {
      armedTimers.splice(armedTimers.indexOf(due), 1);
      wake = true;
    });
  };
  const nextWakeUp = (now: number): number | null => {
    const later = armedTimers.filter((at) => at > now);
    return later.length === 0 ? null : Math.min(...later);
  };

  const flush = async (batch: PersistBatch, version: number): Promise<void> => {
    try {
      await persist(batch);
    } catch (error) {
      // The database refused part of the batch for good (an outage is retried inside persist, never
      // thrown here): record it where operators look, and go on answering and deciding.
      const refused = persistRefusal(error);
      // Anything else is a bug, not the conversation's fate: fail the task (retried), never the run.
      if (!refused) throw new Error(`persist failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
      await recordPersistFailure({
        conversationId,
        accountId: ref.accountId,
        version,
        error: refused.message,
        messageIds: batch.messages.map((message) => message.messageId),
        eventSeqs: batch.events.map((e) => e.seq),
        ...(batch.light ? { deliveries: (batch.deliveries ?? []).map((d) => `${d.messageId}:${d.delivery.status}`) } : {}),
      });
    }
  };

  for (;;) {
    const now = Date.now();
    current = policy.current!;

    const newest = Math.max(...inbox.map((entry) => entry.policyVersion ?? 0));
    if (policy.isBehind(newest)) {
      await policy.catchUp(newest);
      continue;
    }
    if (durableDedupe) {
      const unasked = [...new Set(inbox.flatMap(({ input: i }) => (i.type === 'customerMessage' && !storeAnswers.has(i.message.messageId) && needsStoreCheck(state, i.message.messageId) ? [i.message.messageId] : [])))];
      if (unasked.length > 0) {
        const recorded = new Set(await recordedMessageIds({ conversationId, messageIds: unasked }));
        for (const id of unasked) storeAnswers.set(id, recorded.has(id));
        // Inputs that came meanwhile are looked at before the drain too.
        continue;
      }
    }
    // The ids the window holds now: one that later messages of this drain push out is still known.
    const windowed = durableDedupe && storeAnswers.size > 0 ? new Set(state.recentMessageIds) : undefined;
    settle(current, now);
    while (inbox.length > 0) {
      const { input: next, actor } = inbox.shift()!;
      if (next.type === 'customerMessage' && (storeAnswers.get(next.message.messageId) === true || (windowed?.has(next.message.messageId) && !state.recentMessageIds.includes(next.message.messageId)))) continue;
      const decision = decide(state, next, actor, current, now);
      if (decision.ok) apply(lightDelivery ? lightened(state, decision) : decision);
      else conversationSink.rejectedInput({ conversationId, input: next.type, actor: actor.kind, code: decision.code, reason: decision.message });
    }
    storeAnswers.clear();

    // Again after the inputs: one of them can make a deadline already due (a message with an old sentAt).
    settle(current, now);
    const due = nextDeadline(state, current);

    // A new policy that moves what the view shows (a deadline, the window's end) is a change of its own:
    // a new version, written and streamed like any other (not in runs from before the patch).
    if (state.version === flushedVersion && viewedPolicy !== undefined && viewedPolicy !== current) {
      const restamped = restampedForPolicy(state, viewedPolicy, current, now);
      if (restamped && viewFollowsPolicy) state = restamped;
    }
    viewedPolicy = current;

    if (state.version > flushedVersion) {
      ui.publish(state, current, nextWakeUp(now));
      const version = state.version;
      await flush(toBatch(state, current, pending.splice(0, pending.length)), version);
      flushedVersion = Math.max(flushedVersion, version);
      continue;
    }
    // Only light delivery decisions leave effects at a flushed version: their deliveries and a stream
    // entry are written, the view (the same version) is not. A run without the patch never gets here.
    if (lightDelivery && pending.length > 0) {
      await flush({ ...toBatch(state, current, pending.splice(0, pending.length)), light: true }, state.version);
      continue;
    }

    // Asked only once an episode has ended, so a run that never closed records no marker. Replaying a run
    // from before the patch this answers false, and that run continues as new here as it did then.
    if (episodeEnded && taken(closeInRunPatch)) episodeEnded = false;
    if (episodeEnded || workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > budget) {
      // Let running update handlers finish (they wait for the flush above), then roll over.
      // The outbox drains first: a send's outcome belongs to the run that made it (the next run would
      // send it again), and no send may start in the activation that continues.
      // Meanwhile inputs (a send's outcome among them) and changes are still decided and flushed.
      const drained = () => allHandlersFinished() && !outbox.hasQueued();
      await condition(() => drained() || inbox.length > 0 || state.version > flushedVersion);
      if (drained() && inbox.length === 0 && state.version === flushedVersion && pending.length === 0) {
        // Continue-as-new cannot set the next run's static summary (SDK 1.24); its memo says what it is.
        const next = makeContinueAsNewFunc<typeof conversationWorkflow>({
          typedSearchAttributes: searchAttributePairs(state),
          memo: { summary: `Conversation with ${ref.customer} on ${ref.channel} (account ${ref.accountId}), continued from episode ${state.episode}` },
        });
        await next({ ...ref, carriedFromPreviousRun: { state, policy: current, pending: [] }, limits: input.limits });
      }
      continue;
    }

    if (due !== null && due > now) armTimer(now, due, current);
    wake = false;
    await condition(() => wake || inbox.length > 0 || state.version > flushedVersion);
  }
}
