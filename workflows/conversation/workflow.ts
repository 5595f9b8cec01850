/**
 * The durable shell around the pure lifecycle: one workflow per conversation, living across episodes.
 * Customer messages arrive as a signal, agent actions as validated updates; every decision comes from
 * `decide`, and its effects are written to MongoDB by one local activity per batch. Timers follow the
 * deadline in state without being cancelled (see `armTimer`). History is bounded by continue-as-new on the
 * history budget or the server's suggestion; episodes (close, reopen) follow one another in the same run.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributePair, UpdateDefinition } from '@temporalio/common';
import type { Sinks } from '@temporalio/workflow';
import type { ConversationActivities, PersistBatch } from '../../activities/conversation-activities';
import { persistRefusedType } from './persist-failures';
import type { DeliveryActivities } from '../../activities/delivery-activities';
import { deliveryActivityOptions, undeliverable } from './delivery-options';
import type { Actor, ConversationState, Decision, Effect, Input, InboundMessage, OutboxEntry, SendOutcome } from './lifecycle';
import { deadlines, decide, initialState, nextDeadline, upgradeState } from './lifecycle';
import { settled } from './settle';
import type {
  ActionBase,
  ActionResult,
  AssignArgs,
  BroadcastArgs,
  ConversationRef,
  CustomerMessagePayload,
  FlowArgs,
  ReplyArgs,
  TagsArgs,
  TemplateArgs,
  TransferArgs,
} from './messages';
import {
  agentPresenceSignal,
  assignUpdate,
  broadcastUpdate,
  conversationQuery,
  customerEventSignal,
  deliveryStatusSignal,
  endUpdate,
  flowUpdate,
  leaveUpdate,
  releaseToQueueUpdate,
  reviveUpdate,
  tagsUpdate,
  transferUpdate,
  conversationWorkflowId,
  customerMessageSignal,
  policyChangedSignal,
  releaseSignal,
  routedSignal,
  replyUpdate,
  resolveUpdate,
  takeOverUpdate,
  templateUpdate,
} from './messages';
import type { Policy } from './policy';
import { defaultPolicy } from './policy';
import { accountIdKey, assigneeIdKey, conversationStatusKey } from './search-attributes';
import { iso, restampedForPolicy, toView } from './view';
import { deadlineLabel, wakeUpLabel } from './timer-labels';

export interface ConversationWorkflowInput extends ConversationRef {
  /**
   * Set only by continue-as-new: the state as the previous run left it, which the Web UI shows as this
   * run's input. Named so that nobody reads it as the conversation's current state (the
   * `conversation` query and the run's current details are that).
   */
  carriedFromPreviousRun?: CarriedState;
  /** The same, as runs continued by versions before 2026-11-27 passed it. */
  carried?: CarriedState;
  /** Engine limits; tests lower them to drive continue-as-new. */
  limits?: { historyEventBudget?: number };
}

/** What the workflow tells the worker without a command (see `rejectedInput`). */
export interface RejectedInput {
  conversationId: string;
  input: Input['type'];
  actor: Actor['kind'];
  code: string;
  reason: string;
}
export interface ConversationSinks extends Sinks {
  conversation: { rejectedInput(rejection: RejectedInput): void };
}

/** Plain JSON across continue-as-new: no Map, Set, Date or class instance survives it. */
export interface CarriedState {
  state: ConversationState;
  policy: Policy;
  /** Effects decided but not yet written; normally empty because the run flushes before it continues. */
  pending: Effect[];
}

/** The server suggests continue-as-new at ~4k events; a conversation rolls over well before that. */
const defaultHistoryEventBudget = 2_000;

const { loadPolicy, persist, recordPersistFailure } = proxyLocalActivities<ConversationActivities>({
  // Generous: under load FerretDB can take seconds, and a retry racing a slow first attempt wastes both.
  startToCloseTimeout: '30s',
  // A MongoDB outage must delay the views, never lose them: retry without limit, backing off to 10 s.
  retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

const { deliver } = proxyActivities<DeliveryActivities>(deliveryActivityOptions);

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

export async function conversationWorkflow(input: ConversationWorkflowInput): Promise<void> {
  const ref: ConversationRef = { accountId: input.accountId, channel: input.channel, customer: input.customer };
  const conversationId = conversationWorkflowId(ref);
  // The history length seen by the run's first workflow task; see the validator below for why.
  const firstTaskHistoryLength = workflowInfo().historyLength;
  const budget = input.limits?.historyEventBudget ?? defaultHistoryEventBudget;
  // Asked once, in the run's first activation, before anything awaits: asked later (after a local
  // activity), a query that splits the workflow task around the activity puts the marker into another
  // task than a replay does, which fails the replay (seen re-recording the histories). A run started by
  // older code answers false here for its whole life; its next run answers true.
  const viewFollowsPolicy = patched(viewFollowsPolicyPatch);
  const wakeUpLabels = patched(timerLabelPatch);

  const carried = input.carriedFromPreviousRun ?? input.carried;
  let state: ConversationState = carried ? upgradeState(carried.state) : initialState({ conversationId, ...ref });
  let policy: Policy | undefined = carried?.policy;
  const pending: Effect[] = [...(carried?.pending ?? [])];
  // Inputs from signals (the customer, the router, the API), decided in arrival order by the main loop.
  const inbox: { input: Input; actor: Actor; policyVersion?: number }[] = [];
  // The views are current up to this state version; a carried run flushed before it continued.
  let flushedVersion = pending.length > 0 ? state.version - 1 : state.version;
  let episodeEnded = false;
  let wake = false;
  // The policy the views were last written with (a carried run's were written by the run before it).
  let viewedPolicy: Policy | undefined = carried?.policy;
  const armedTimers: number[] = [];

  const apply = (decision: Extract<Decision, { ok: true }>): void => {
    if (!decision.changed) return;
    if (decision.state.status === 'closed' && state.status !== 'closed') episodeEnded = true;
    state = decision.state;
    pending.push(...decision.effects);
  };

  // Deadlines that passed are decided before any input (settle.ts says why).
  const settle = (current: Policy, now: number): void => {
    for (const decision of settled(state, current, now).decisions) apply(decision);
  };

  const decideOrFail = (action: Input, actor: Actor, current: Policy, base: ConversationState = state): Extract<Decision, { ok: true }> => {
    const decision = decide(base, action, actor, current, Date.now());
    // The code travels as the failure type; the API maps codes to HTTP statuses, never messages.
    if (!decision.ok) throw ApplicationFailure.create({ type: decision.code, message: decision.message, nonRetryable: true });
    return decision;
  };

  // Handlers are registered before anything awaits: with signal-with-start the signal is delivered
  // in the first activation, before the main body continues.
  setHandler(customerMessageSignal, (message) => {
    inbox.push({ input: { type: 'customerMessage', message: toInbound(message) }, actor: customer, policyVersion: message.policyVersion });
  });
  setHandler(routedSignal, (offer) => {
    inbox.push({ input: { type: 'routed', assigneeId: offer.assigneeId, rule: offer.rule }, actor: system });
  });
  setHandler(customerEventSignal, (event) => {
    inbox.push({ input: event.type === 'left' ? { type: 'customerLeft' } : { type: 'csatAnswer', score: event.score }, actor: customer });
  });
  setHandler(agentPresenceSignal, (presence) => {
    inbox.push({ input: { type: 'agentPresence', userId: presence.userId, online: presence.online }, actor: system });
  });
  setHandler(releaseSignal, (release) => {
    inbox.push({ input: { type: 'release', userId: release.userId, reason: release.reason }, actor: system });
  });
  setHandler(deliveryStatusSignal, (status) => {
    const at = status.at === undefined ? undefined : Date.parse(status.at);
    const receipt = { providerMessageId: status.providerMessageId, status: status.status, error: status.error, at: at !== undefined && Number.isFinite(at) ? at : undefined };
    inbox.push({ input: { type: 'receipt', receipt }, actor: system });
  });
  setHandler(policyChangedSignal, (next) => {
    if (!policy || next.version > policy.version) {
      policy = next;
      wake = true;
    }
  });
  setHandler(conversationQuery, () => toView(state, policy ?? defaultPolicy));

  const registerAction = <A extends ActionBase>(update: UpdateDefinition<ActionResult, [A]>, toInput: (args: A) => Input): void => {
    setHandler(
      update,
      async (args: A): Promise<ActionResult> => {
        await condition(() => policy !== undefined);
        await catchUpPolicy(args.policyVersion);
        settle(policy!, Date.now());
        const decision = decideOrFail(toInput(args), args.actor, policy!);
        apply(decision);
        const version = state.version;
        // Answer only once the change is in MongoDB, so a read right after the answer sees it.
        await condition(() => flushedVersion >= version);
        const sent = decision.effects.find((e) => e.type === 'send');
        return { conversation: toView(state, policy!), messageId: sent ? sent.message.messageId : null };
      },
      {
        // Synchronous on purpose: a rejected update is never written to history. Two exceptions let
        // the handler decide (and fail the update in history) instead: before the policy is loaded,
        // and inside the run's first workflow task, where the dev server (1.31) drops the whole task
        // when its only update is rejected, stalling the next task for the 10 s sticky timeout.
        validator: (args: A): void => {
          // A caller who knows a newer policy than ours is decided by the handler, after it reloads.
          const stale = policy !== undefined && (args.policyVersion ?? 0) > policy.version;
          if (policy && !stale && workflowInfo().historyLength !== firstTaskHistoryLength) {
            decideOrFail(toInput(args), args.actor, policy, settled(state, policy, Date.now()).state);
          }
        },
      },
    );
  };
  registerAction<ReplyArgs>(replyUpdate, (args) => ({ type: 'reply', text: args.text, replyTo: args.replyTo }));
  registerAction<TemplateArgs>(templateUpdate, (args) => ({ type: 'template', template: args.template }));
  registerAction<AssignArgs>(assignUpdate, (args) => ({ type: 'assign', assigneeId: args.assigneeId }));
  registerAction(takeOverUpdate, () => ({ type: 'takeOver' }));
  registerAction(resolveUpdate, () => ({ type: 'resolve' }));
  registerAction(endUpdate, () => ({ type: 'end' }));
  registerAction(leaveUpdate, () => ({ type: 'leave' }));
  registerAction(reviveUpdate, () => ({ type: 'revive' }));
  registerAction(releaseToQueueUpdate, () => ({ type: 'releaseToQueue' }));
  registerAction<TransferArgs>(transferUpdate, (args) => ({ type: 'transfer', team: args.team }));
  registerAction<TagsArgs>(tagsUpdate, (args) => ({ type: 'tags', add: args.add, remove: args.remove }));
  registerAction<FlowArgs>(flowUpdate, (args) =>
    args.action === 'start' ? { type: 'flowStart', priority: args.priority } : { type: 'flowEnd', assignTo: args.assignTo },
  );
  registerAction<BroadcastArgs>(broadcastUpdate, (args) => ({ type: 'broadcast', template: args.template, priority: args.priority }));

  /**
   * The outbox, one message at a time in order: the oldest queued message is sent once the views hold
   * it, and the next waits until this one's outcome is decided, so a conversation's messages reach the
   * customer in the order they were accepted.
   */
  const nextToSend = (): OutboxEntry | undefined => {
    const head = state.outbox.find((e) => e.status === 'queued');
    return head && head.version <= flushedVersion ? head : undefined;
  };
  const deliveryLoop = async (): Promise<never> => {
    for (;;) {
      await condition(() => nextToSend() !== undefined);
      const entry = nextToSend()!;
      if (!patched(outboundDeliveryPatch)) {
        // Replaying a run from before delivery existed: its persist sent this message (to the recording
        // provider) then. Mark it done in memory only: no command, no new version.
        state = { ...state, outbox: state.outbox.map((e) => (e.messageId === entry.messageId ? { ...e, status: 'sent' as const, send: null } : e)) };
        continue;
      }
      let result: SendOutcome;
      try {
        result = await deliver({
          deliveryId: `${conversationId}/${entry.messageId}`,
          accountId: ref.accountId,
          channel: ref.channel,
          customer: ref.customer,
          conversationId,
          messageId: entry.messageId,
          campaignId: null,
          ...entry.send!,
        });
      } catch (error) {
        result = undeliverable(error);
      }
      inbox.push({ input: { type: 'sendOutcome', messageId: entry.messageId, result }, actor: system });
      await condition(() => state.outbox.find((e) => e.messageId === entry.messageId)?.status !== 'queued');
    }
  };
  void deliveryLoop();

  /**
   * Policy changes reach running conversations by the `policyChanged` signal, which can be lost (the API
   * stored the policy and died before signalling). So a run also reloads the stored policy when it
   * starts from a carried state, and whenever an input says the account's policy is newer than ours
   * (the API stamps every customer message and action with the stored version): a conversation applies
   * the current policy at its next input or run, whatever happened to the signal.
   */
  const reloadPolicy = async (): Promise<void> => {
    const stored = await loadPolicy(ref.accountId);
    if (policy === undefined || stored.version > policy.version) {
      policy = stored;
      wake = true;
    }
  };
  let reloadedFor = 0;
  const catchUpPolicy = async (known: number | undefined): Promise<void> => {
    if (policy === undefined || known === undefined || known <= policy.version || known <= reloadedFor) return;
    // Once per version claimed, even if the store does not have it (yet): no reload loop.
    reloadedFor = known;
    await reloadPolicy();
  };

  if (policy === undefined) policy = await loadPolicy(ref.accountId);
  else if (patched(policyReloadPatch)) await reloadPolicy();
  // A carried run inherits its search attributes; a new one sets all three with its first flush.
  let indexed = carried ? indexedValues(state) : undefined;
  // Every run describes itself from its first task (the UI shows it on the run's page); a continued run
  // has no static summary of its own, since continue-as-new cannot set one.
  if (carried) describe(state, policy);

  const armTimer = (now: number, due: number, current: Policy): void => {
    // A timer already set to fire before this deadline wakes us in time, and we then sleep the
    // remainder. So a deadline that moves later (every customer message) costs no timer events.
    if (armedTimers.some((at) => at > now && at <= due)) return;
    armedTimers.push(due);
    let summary: string;
    if (wakeUpLabels) {
      // What the timer waits for, and only that: the instant it wakes the loop to check the deadlines.
      // Naming the deadline due then would go false at the next customer message (it moves the deadline
      // later and keeps this timer), and a new timer per message to keep a name true would cost two
      // history events per message. The deadlines, in words and current, are in the run's details.
      summary = wakeUpLabel(due);
      describe(state, current, nextWakeUp(now));
    } else {
      const kinds = deadlines(state, current).filter((d) => d.at === due).map((d) => d.kind);
      summary = `${kinds.join(', ') || 'deadline'} at ${iso(due)}`;
    }
    void sleep(due - now, { summary }).then(() => {
      armedTimers.splice(armedTimers.indexOf(due), 1);
      wake = true;
    });
  };
  const nextWakeUp = (now: number): number | null => {
    const pending = armedTimers.filter((at) => at > now);
    return pending.length === 0 ? null : Math.min(...pending);
  };

  for (;;) {
    const now = Date.now();
    const current: Policy = policy;

    const newest = Math.max(...inbox.map((entry) => entry.policyVersion ?? 0));
    if (newest > current.version && newest > reloadedFor) {
      await catchUpPolicy(newest);
      continue;
    }
    settle(current, now);
    while (inbox.length > 0) {
      const { input: next, actor } = inbox.shift()!;
      const decision = decide(state, next, actor, current, now);
      if (decision.ok) apply(decision);
      else rejectedInput(conversationId, next, actor, decision);
    }

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
      indexed = publish(state, current, indexed, nextWakeUp(now));
      const version = state.version;
      const effects = pending.splice(0, pending.length);
      const batch = toBatch(state, current, effects);
      try {
        await persist(batch);
      } catch (error) {
        // The database refused part of the batch for good (an outage is retried inside persist, never
        // thrown here): record it where operators look, and go on answering and deciding.
        const refused = refusal(error);
        // Anything else is a bug, not the conversation's fate: fail the task (retried), never the run.
        if (!refused) throw new Error(`persist failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
        await recordPersistFailure({
          conversationId,
          accountId: ref.accountId,
          version,
          error: refused.message,
          messageIds: batch.messages.map((m) => m.messageId),
          eventSeqs: batch.events.map((e) => e.seq),
        });
      }
      flushedVersion = Math.max(flushedVersion, version);
      continue;
    }

    // Asked only once an episode has ended, so a run that never closed records no marker. Replaying a run
    // from before the patch this answers false, and that run continues as new here as it did then.
    if (episodeEnded && patched(closeInRunPatch)) episodeEnded = false;
    if (episodeEnded || workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > budget) {
      // Let running update handlers finish (they wait for the flush above), then roll over.
      // The outbox drains first: a send's outcome belongs to the run that made it (the next run would
      // send it again), and no send may start in the activation that continues.
      // Meanwhile inputs (a send's outcome among them) and changes are still decided and flushed.
      const drained = () => allHandlersFinished() && !state.outbox.some((e) => e.status === 'queued');
      await condition(() => drained() || inbox.length > 0 || state.version > flushedVersion);
      if (drained() && inbox.length === 0 && state.version === flushedVersion) {
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

const customer: Actor = { kind: 'customer' } as const;
const system: Actor = { kind: 'system' };

function toInbound(message: CustomerMessagePayload): InboundMessage {
  const sentAt = message.sentAt === undefined ? undefined : Date.parse(message.sentAt);
  return {
    messageId: message.messageId,
    kind: message.type ?? 'text',
    text: message.text,
    content: message.content,
    sentAt: sentAt !== undefined && Number.isFinite(sentAt) ? sentAt : undefined,
    customerName: message.customerName,
    replyTo: message.replyTo,
    attributes: message.attributes,
  };
}

/** The `persist_refused` failure inside what a local activity threw, if that is what it was. */
function refusal(error: unknown): ApplicationFailure | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure && e.type === persistRefusedType) return e;
  }
  return undefined;
}

type Indexed = { status: string; assigneeId: string | null } | undefined;

function indexedValues(state: ConversationState): Indexed {
  return { status: state.status, assigneeId: state.assigneeId };
}

function searchAttributePairs(state: ConversationState): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: accountIdKey, value: state.accountId },
    { key: conversationStatusKey, value: state.status },
  ];
  if (state.assigneeId !== null) pairs.push({ key: assigneeIdKey, value: state.assigneeId });
  return pairs;
}

/** Keeps the Web UI current: search attributes when they change, and a readable live description. */
function publish(state: ConversationState, policy: Policy, before: Indexed, wakeUp: number | null): Indexed {
  const now = indexedValues(state)!;
  if (before === undefined) {
    upsertSearchAttributes(searchAttributePairs(state));
  } else if (before.status !== now.status || before.assigneeId !== now.assigneeId) {
    upsertSearchAttributes([
      { key: conversationStatusKey, value: now.status },
      { key: assigneeIdKey, value: now.assigneeId },
    ]);
  }
  describe(state, policy, wakeUp);
  return now;
}

/**
 * The run's live description in the Web UI: what the conversation is now, not what the run started with,
 * its pending deadlines in words, and when its timer next wakes it to check them.
 */
function describe(state: ConversationState, policy: Policy | undefined, wakeUp?: number | null): void {
  const current = policy ?? defaultPolicy;
  const view = toView(state, current);
  const queued = state.outbox.filter((e) => e.status === 'queued').length;
  const pending = deadlines(state, current)
    .sort((a, b) => a.at - b.at)
    .map((d) => deadlineLabel(d.kind, d.at));
  setCurrentDetails(
    [
      `**${view.status}**${view.assigneeId ? ` — assigned to \`${view.assigneeId}\`` : ''} · episode ${view.episode}`,
      `customer \`${view.customer}\` on channel \`${view.channel}\`, ${view.unreadCount} unread${queued > 0 ? `, ${queued} message(s) being sent` : ''}`,
      `window closes ${view.windowExpiresAt ?? '—'}; auto-close ${view.autoCloseAt ?? '—'}`,
      `deadlines: ${pending.length > 0 ? pending.join('; ') : 'none'}${wakeUp ? ` · ${wakeUpLabel(wakeUp)}` : ''}`,
    ].join('\n\n'),
  );
}

/**
 * A signal the rules refused (a customer event for a conversation in the wrong state, a receipt from
 * nobody, ...) changes nothing; an integration sending bad input finds out from the worker, which logs
 * and counts it through this sink (not during replay), naming the conversation, input and reason.
 */
const { conversation: conversationSink } = proxySinks<ConversationSinks>();

function rejectedInput(conversationId: string, input: Input, actor: Actor, decision: Extract<Decision, { ok: false }>): void {
  conversationSink.rejectedInput({ conversationId, input: input.type, actor: actor.kind, code: decision.code, reason: decision.message });
}

function toBatch(state: ConversationState, policy: Policy, effects: Effect[]): PersistBatch {
  const batch: Required<PersistBatch> = { view: toView(state, policy), messages: [], events: [], deliveries: [], routing: [] };
  const conversationId = state.conversationId;
  for (const effect of effects) {
    switch (effect.type) {
      case 'recordMessage':
        batch.messages.push(effect.message);
        break;
      case 'recordEvent':
        batch.events.push(effect.event);
        break;
      case 'send':
        // Sent by the delivery loop from the outbox, once this batch is written.
        break;
      case 'recordDelivery':
        batch.deliveries.push({ messageId: effect.messageId, delivery: effect.delivery });
        break;
      case 'requestRouting':
        batch.routing.push({ type: 'request', request: { conversationId, ...effect.request } });
        break;
      case 'reportAssignment':
        batch.routing.push({ type: 'report', report: { conversationId, assigneeId: effect.assigneeId } });
        break;
      default: {
        // A new effect type must say here how it is written; until it does, this does not compile.
        const unknown: never = effect;
        throw new Error(`no way to persist effect ${JSON.stringify(unknown)}`);
      }
    }
  }
  return batch;
}
