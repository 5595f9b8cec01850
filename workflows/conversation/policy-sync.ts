/**
 * The policy a running conversation decides with, and how it stays current (DESIGN.md, "Policy
 * changes"). Policy changes reach running conversations by the `policyChanged` signal, which can be
 * lost (the API stored the policy and died before signalling). So a run also reloads the stored policy
 * when it starts from a carried state, and whenever an input says the account's policy is newer than
 * ours (the API stamps every customer message and action with the stored version): a conversation
 * applies the current policy at its next input or run, whatever happened to the signal.
 */
import type { Policy } from './core/policy';
import type { PatchSet } from './patches';
import { policyReloadPatch } from './patches';

export class PolicySync {
  /** Undefined only until the run's first load (a new run) resolves. */
  current: Policy | undefined;
  // The newest version an input claimed and we reloaded for: once per version, even if the store does not have it (yet).
  private reloadedFor = 0;

  constructor(
    private readonly accountId: string,
    carried: Policy | undefined,
    private readonly load: (accountId: string) => Promise<Policy>,
    /** Called when a newer policy replaced ours, so the loop wakes to apply it. */
    private readonly onNewer: () => void,
    /** The run's patches (patches.ts). */
    private readonly taken: PatchSet,
  ) {
    this.current = carried;
  }

  /** The `policyChanged` signal: a newer version replaces ours, an older one arriving late is ignored. */
  offered(next: Policy): void {
    if (!this.current || next.version > this.current.version) {
      this.current = next;
      this.onNewer();
    }
  }

  /** Whether an input claims a newer policy than ours that we have not reloaded for yet. */
  isBehind(claimed: number): boolean {
    return this.current !== undefined && claimed > this.current.version && claimed > this.reloadedFor;
  }

  async catchUp(claimed: number | undefined): Promise<void> {
    if (this.current === undefined || claimed === undefined || claimed <= this.current.version || claimed <= this.reloadedFor) return;
    this.reloadedFor = claimed;
    await this.reload();
  }

  /** A new run loads the stored policy; a carried one reloads it (not in runs from before the patch). */
  async start(): Promise<Policy> {
    if (this.current === undefined) this.current = await this.load(this.accountId);
    else if (this.taken(policyReloadPatch)) await this.reload();
    return this.current;
  }

  /** A new run whose policy came with its other start reads (`loadRunStart`). */
  startWith(loaded: Policy): Policy {
    if (this.current === undefined || loaded.version > this.current.version) this.current = loaded;
    return this.current;
  }

  private async reload(): Promise<void> {
    const stored = await this.load(this.accountId);
    if (this.current === undefined || stored.version > this.current.version) {
      this.current = stored;
      this.onNewer();
    }
  }
}
