/**
 * The one algorithm behind every "claimed revision" in the store (store/DESIGN.md): policy versions,
 * user profiles, read marks and presence. FerretDB runs a filtered update or a `$max` as a read and
 * then a whole-document write, so none of them can guard a change. Instead:
 *
 * 1. **Claim** revision `n + 1` by inserting its own document (`{key}/{n + 1}`): an insert of an
 *    existing `_id` fails on MongoDB and FerretDB alike, so of two changes decided from revision `n`
 *    exactly one wins. The loser reads again (and decides again, or answers 409).
 * 2. **Copy** the claimed state into the document readers start from, then read forwards; while a newer
 *    revision appears, copy that: of all copies, the last to land is the newest.
 * 3. **Read forwards** from any copy by `_id` (the one filter FerretDB answers from its index) until the
 *    next revision is missing: a copy that lags (its writer died after the claim) or was set back (two
 *    copies landing out of order) is never what a reader ends with.
 *
 * A module describes its revisions with `Revisions<S>` (how to read the revision after a state) and calls
 * these; none writes the loops again.
 */
export interface Revisions<S> {
  /** The revision a state holds (0 for "none yet"). */
  rev(state: S): number;
  /** The state at revision `rev(after) + 1`, read by `_id`; null when that revision is not claimed. */
  next(after: S): Promise<S | null>;
}

/** The newest claimed state, reading forwards from `from`. */
export async function readForwards<S>(revisions: Revisions<S>, from: S): Promise<S> {
  let newest = from;
  for (;;) {
    const next = await revisions.next(newest);
    if (next === null) return newest;
    newest = next;
  }
}

/** Writes `from` into the copy readers start from, and again while a newer revision appears. */
export async function copyForwards<S>(revisions: Revisions<S>, from: S, writeCopy: (state: S) => Promise<void>): Promise<void> {
  let copy = from;
  for (;;) {
    await writeCopy(copy);
    const newer = await readForwards(revisions, copy);
    if (revisions.rev(newer) === revisions.rev(copy)) return;
    copy = newer;
  }
}

/**
 * Claims the revision `state` holds (decided by the caller from the one before it), then copies forwards;
 * false when another change claimed that revision first (the caller answers 409 or decides again).
 */
export async function claimRevision<S>(revisions: Revisions<S>, state: S, claim: (state: S) => Promise<boolean>, writeCopy: (state: S) => Promise<void>): Promise<boolean> {
  if (!(await claim(state))) return false;
  await copyForwards(revisions, state, writeCopy);
  return true;
}

/**
 * Decides the next revision from the newest and claims it; when another change claimed it first, reads
 * again and decides again. `decide` answers null for "nothing to change". Answers the state decided from
 * and the claimed one (null when there was nothing to do); only a caller with a claimed one runs effects.
 */
export async function decideAndClaim<S>(
  revisions: Revisions<S>,
  options: { newest: () => Promise<S>; decide: (current: S) => S | null; claim: (next: S) => Promise<boolean>; writeCopy: (state: S) => Promise<void> },
): Promise<{ before: S; after: S | null }> {
  for (;;) {
    const before = await options.newest();
    const after = options.decide(before);
    if (after === null) return { before, after: null };
    if (await claimRevision(revisions, after, options.claim, options.writeCopy)) return { before, after };
  }
}
