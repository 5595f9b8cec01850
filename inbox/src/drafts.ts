/**
 * What an agent is composing, per conversation, kept in the browser's localStorage so that switching
 * conversations, pressing Escape or reloading the page loses nothing. Each draft carries the
 * `Idempotency-Key` of its send: the key is made with the draft and kept until the server has answered
 * that send, so a retry after a dropped connection (or a reload mid-send) cannot reach the customer
 * twice; a definite answer (sent, or refused) ends the key, and the next send gets a new one.
 */
export interface Draft {
  text: string;
  idempotencyKey: string;
}

/** 128 random bits as hex: `crypto.getRandomValues` works on plain-http pages too, unlike `randomUUID`. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `inbox-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

type KeyValueStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export class Drafts {
  constructor(
    private readonly storage: KeyValueStore,
    private readonly scope: string,
  ) {}

  private name(conversationId: string, kind: string) {
    return `convoflow.draft.${this.scope}.${kind}.${conversationId}`;
  }

  get(conversationId: string, kind = 'reply'): Draft {
    try {
      const raw = this.storage.getItem(this.name(conversationId, kind));
      const parsed = raw ? (JSON.parse(raw) as Partial<Draft>) : null;
      if (parsed && typeof parsed.text === 'string' && typeof parsed.idempotencyKey === 'string') return { text: parsed.text, idempotencyKey: parsed.idempotencyKey };
    } catch {
      // a draft that cannot be read is no draft
    }
    return { text: '', idempotencyKey: newIdempotencyKey() };
  }

  /** Keeps the text; an empty text forgets the draft but keeps nothing of its key either. */
  set(conversationId: string, draft: Draft, kind = 'reply'): void {
    try {
      if (draft.text === '') this.storage.removeItem(this.name(conversationId, kind));
      else this.storage.setItem(this.name(conversationId, kind), JSON.stringify(draft));
    } catch {
      // storage full or refused: the draft lives in the page only
    }
  }

  /** After a definite answer: the draft is gone and the next send has a new key. */
  clear(conversationId: string, kind = 'reply'): Draft {
    this.set(conversationId, { text: '', idempotencyKey: '' }, kind);
    return { text: '', idempotencyKey: newIdempotencyKey() };
  }
}
