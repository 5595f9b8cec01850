import type { Logger } from 'pino';

/**
 * The account's stored policy version, stamped on every input the API sends a conversation so a
 * conversation that missed a `policyChanged` signal reloads (workflows/conversation/workflow.ts,
 * `catchUpPolicy`). Read at most about once a second per account and process; undefined when it cannot
 * be read, and then not asked again for 5 s, so a MongoDB outage costs one timeout, not one per message
 * (they go on without it). Under steady traffic nobody waits for the read: in the second half of a
 * value's second it is read again in the background, and requests meanwhile take the value they have;
 * requests that find no value wait for the one read in flight rather than each starting their own.
 */
interface CachedVersion {
  version: number | undefined;
  until: number;
  /** When to start reading the next value in the background. */
  refreshAt: number;
}

const freshForMs = 1_000;
const afterFailureMs = 5_000;

export class PolicyVersionCache {
  private readonly values = new Map<string, CachedVersion>();
  private readonly reads = new Map<string, Promise<number | undefined>>();
  /** Bumped by a policy change, so a read that started before it never stores its older answer. */
  private readonly generations = new Map<string, number>();

  constructor(
    /** The newest claimed version of the account's policy (store/policy-versions.ts); undefined: no such account. */
    private readonly read: (accountId: string) => Promise<number | undefined>,
    private readonly log: Logger,
  ) {}

  /** The version to stamp on an input to one of the account's conversations. */
  async versionOf(accountId: string): Promise<number | undefined> {
    const cached = this.values.get(accountId);
    const now = Date.now();
    if (cached && now < cached.until) {
      if (now >= cached.refreshAt) void this.readVersion(accountId);
      return cached.version;
    }
    return this.readVersion(accountId);
  }

  /** After a policy change through this process: the next message or action reads the new version. */
  forget(accountId: string): void {
    this.generations.set(accountId, (this.generations.get(accountId) ?? 0) + 1);
    this.values.delete(accountId);
    this.reads.delete(accountId);
  }

  private readVersion(accountId: string): Promise<number | undefined> {
    const inFlight = this.reads.get(accountId);
    if (inFlight) return inFlight;
    const generation = this.generations.get(accountId) ?? 0;
    const read = (async () => {
      let version: number | undefined;
      let freshFor = freshForMs;
      try {
        version = await this.read(accountId);
      } catch (error) {
        this.log.debug({ err: error, accountId }, 'policy version not read; messages and actions go on without it');
        freshFor = afterFailureMs;
      }
      if ((this.generations.get(accountId) ?? 0) === generation) {
        if (this.values.size > 10_000) this.values.clear();
        const now = Date.now();
        this.values.set(accountId, { version, until: now + freshFor, refreshAt: now + freshFor / 2 });
      }
      return version;
    })();
    this.reads.set(accountId, read);
    // Only this read's own entry: a policy change may have dropped it and a newer read taken its place.
    void read.finally(() => this.reads.get(accountId) === read && this.reads.delete(accountId));
    return read;
  }
}
