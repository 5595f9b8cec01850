/**
 * Every failure the conversation raises on purpose, with when each is thrown and a predicate to
 * recognise it wherever it arrives (wrapped in an activity failure, or as itself). Rejections by the
 * rules are not here: they are values with a code (`Decision`), which the shell turns into
 * `ApplicationFailure`s typed by that code. Pure: no SDK import, so the predicates duck-type what the
 * SDK wraps and every layer (workflow, activities, tests) can use them.
 */

/**
 * The failure type of a conversation batch the database refused for good (a document it will never
 * take). Thrown (as a non-retryable `ApplicationFailure` of this type) by the `persist` activity; the
 * workflow records it (`recordPersistFailure`) and goes on deciding and answering.
 */
export const persistRefusedType = 'persist_refused';

/**
 * The `persist_refused` failure inside what an activity call threw (the SDK wraps it in an
 * `ActivityFailure` whose `cause` it is), or undefined when it is something else.
 */
export function persistRefusal(error: unknown): (Error & { type: string }) | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as { type?: unknown }).type === persistRefusedType) return e as Error & { type: string };
  }
  return undefined;
}

/** Whether an error is (or wraps) a batch the database refused for good. */
export function isPersistRefused(error: unknown): boolean {
  return persistRefusal(error) !== undefined;
}

/**
 * Thrown when a `timer` decision changed the state but left the deadline it decided due at the same
 * instant: deciding it again would do the same, without end, inside one workflow task. In the workflow
 * it fails the task (retried, visible in the Web UI with this message) instead of spinning; it means a
 * rule is missing or wrong, never a conversation's fate.
 */
export class DeadlineDidNotMoveError extends Error {
  readonly conversationId: string;
  readonly deadline: { kind: string; at: number };
  constructor(options: { conversationId: string; deadline: { kind: string; at: number } }) {
    const { conversationId, deadline } = options;
    super(
      `conversation ${conversationId}: the ${deadline.kind} deadline at ${new Date(deadline.at).toISOString()} is still due after deciding it; ` +
        'its timer rule changed the state without moving the deadline',
    );
    // Defined, not assigned: the workflow sandbox freezes Error.prototype, whose `name` an assignment would hit.
    Object.defineProperty(this, 'name', { value: 'DeadlineDidNotMoveError', enumerable: false, configurable: true, writable: true });
    this.conversationId = conversationId;
    this.deadline = deadline;
  }
}

export function isDeadlineDidNotMove(error: unknown): error is DeadlineDidNotMoveError {
  return error instanceof DeadlineDidNotMoveError;
}


/**
 * Thrown when a policy patch has a value that does not parse or is out of range (`applyPolicyPatch`);
 * `field` names it as the API does (`serviceWindow`, `csat.timeout`). The API answers 400
 * `validation_failed`.
 */
export class PolicyError extends Error {
  readonly field: string;
  constructor(options: { field: string; message: string }) {
    super(`${options.field}: ${options.message}`);
    Object.defineProperty(this, 'name', { value: 'PolicyError', enumerable: false, configurable: true, writable: true });
    this.field = options.field;
  }
}

export function isPolicyError(error: unknown): error is PolicyError {
  return error instanceof PolicyError;
}
