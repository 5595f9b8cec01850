/**
 * SPEC 10: while the assignee types, the inbox asks the API to show WhatsApp's "typing…" to the
 * customer. The API sends at most one indicator every 20 s per conversation whoever asks; this keeps
 * one tab from asking on every keystroke: one call per conversation per interval, the first keystroke
 * at once (the indicator should show while the agent starts typing, not 20 s later).
 */
export const typingIntervalMs = 20_000;

export class TypingThrottle {
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs = typingIntervalMs) {}

  /** Whether a keystroke at `now` in this conversation should call the API; if so, it counts as the call. */
  shouldSend(conversationId: string, now: number): boolean {
    const last = this.last.get(conversationId);
    if (last !== undefined && now - last < this.intervalMs && now >= last) return false;
    this.last.set(conversationId, now);
    return true;
  }
}
