import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api, Conversation, Me, User } from './api';
import { composeMode } from './compose-mode';
import { ApiFailure } from './api';
import type { Draft, Drafts } from './drafts';
import { newIdempotencyKey } from './drafts';
import { describeRefusal, serviceWindowWords } from './words';
import { timeLeft } from './time';
import { TemplatePicker, useApprovedTemplates } from './template-picker';
import { missingField, templateSendOf } from './template-send';
import { choiceOf } from './canned';
import { useCannedPicker } from './canned-picker';
import { TypingThrottle } from './typing';

/** One per tab: a conversation's typing calls are spaced whichever composer shows it. */
const typingThrottle = new TypingThrottle();
import type { Attachment } from './attach';
import { AttachmentView, acceptedTypes, newAttachment, takesCaption, uploadFile } from './attach';

/** The longest text WhatsApp takes in one message, and the API's limit for a reply. */
export const maxReplyLength = 4096;

/**
 * One send at a time with one key per composed message. `inFlight` is a ref, not state: a double
 * click or two Ctrl+Enter land before the page re-renders with the button disabled, and must find the
 * first send already under way.
 */
function useSender() {
  const inFlight = useRef(false);
  const [busy, setBusy] = useState(false);
  const send = async (fn: () => Promise<unknown>): Promise<SendOutcome> => {
    if (inFlight.current) return { kind: 'busy' };
    inFlight.current = true;
    setBusy(true);
    try {
      await fn();
      return { kind: 'sent' };
    } catch (e) {
      // A 4xx is a definite answer (stored under the key); no answer or a 5xx may be retried with it.
      return e instanceof ApiFailure && e.status < 500 ? { kind: 'refused', error: e } : { kind: 'unanswered' };
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };
  return { busy, send };
}

type SendOutcome = { kind: 'sent' } | { kind: 'refused'; error: ApiFailure } | { kind: 'unanswered' } | { kind: 'busy' };

export function Composer(props: {
  api: Api;
  me: Me;
  users: User[];
  conversation: Conversation;
  path: string;
  serviceWindow: string;
  drafts: Drafts;
  now: number;
  onError: (message: string | null) => void;
  onNotice: (message: string | null) => void;
  onSent: () => void;
}) {
  const { api, me, conversation: c, path, drafts, now } = props;
  const mode = composeMode(me, c);
  const [draft, setDraftState] = useState<Draft>(() => drafts.get(c.id));
  const [template, setTemplateState] = useState(() => {
    const saved = drafts.get(c.id, 'template');
    const [name = '', language = 'en'] = saved.text ? saved.text.split('\u0000') : [];
    return { name, language, idempotencyKey: saved.idempotencyKey, fields: {} as Record<string, string> };
  });
  // SPEC 10: the registry's approved templates, when the account has synced some (else the free-text form).
  const approved = useApprovedTemplates(api, me.accountId);
  const definitionOf = (t: { name: string; language: string }) => approved.find((d) => d.name === t.name && d.language === t.language);
  const reply = useSender();
  const [attachment, setAttachment] = useState<Attachment | null>(null);
  const attachmentRef = useRef<Attachment | null>(null);
  attachmentRef.current = attachment;
  const attachments = useRef(0);
  const attach = (file: File) => {
    if (attachmentRef.current?.preview) URL.revokeObjectURL(attachmentRef.current.preview);
    const started = newAttachment(file, ++attachments.current);
    setAttachment(started);
    // A file removed or replaced meanwhile is not brought back by its upload's late news.
    const update = (change: Partial<Attachment>) => setAttachment((now) => (now?.key === started.key ? { ...now, ...change } : now));
    uploadFile(api, c.accountId, file, (progress) => update({ progress })).then(
      (mediaId) => update({ mediaId, progress: 1 }),
      (e: unknown) => update({ error: e instanceof ApiFailure ? e.message : 'the upload failed' }),
    );
  };
  const removeAttachment = () => {
    if (attachmentRef.current?.preview) URL.revokeObjectURL(attachmentRef.current.preview);
    attachmentRef.current = null;
    setAttachment(null);
  };
  const templateSender = useSender();
  const textarea = useRef<HTMLTextAreaElement>(null);

  // The latest draft, for code that runs after an await (the text may have changed during the send).
  const current = useRef(draft);
  current.current = draft;
  const setDraft = (next: Draft) => {
    current.current = next;
    setDraftState(next);
    drafts.set(c.id, next);
  };
  const setTemplate = (next: typeof template) => {
    setTemplateState(next);
    drafts.set(c.id, { text: next.name ? `${next.name}\u0000${next.language}` : '', idempotencyKey: next.idempotencyKey }, 'template');
  };
  // Another tab of the same person may have sent or changed the draft: read it again when we come back.
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key?.endsWith(`.reply.${c.id}`) && !reply.busy) setDraftState(drafts.get(c.id));
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  });

  const nameOf = (id: string | null) => (id === me.userId ? 'you' : (props.users.find((u) => u.id === id)?.name ?? id ?? 'nobody'));

  /** What a send's outcome does to the page: the same words for replies and templates. */
  const settle = (outcome: SendOutcome, what: string, on: { sent: () => void; refused: () => void }) => {
    switch (outcome.kind) {
      case 'sent':
        on.sent();
        props.onSent();
        return;
      case 'refused':
        on.refused();
        props.onError(`${what} not sent: ${describeRefusal(outcome.error, nameOf)}`);
        return;
      case 'unanswered':
        props.onError(`${what} not confirmed: the server did not answer. Send again: it will not go out twice.`);
        return;
      case 'busy':
        return;
      default: {
        const unreachable: never = outcome;
        return unreachable;
      }
    }
  };

  /** Sends the draft, or (SPEC 10) the canned response `cannedResponse` in its place, filled by the server. */
  const sendReply = async (cannedResponse?: string) => {
    const { text, idempotencyKey } = current.current;
    const file = cannedResponse === undefined ? attachmentRef.current : null;
    if (file && !file.mediaId) return;
    if (cannedResponse === undefined && ((text.trim() === '' && !file) || text.length > maxReplyLength)) return;
    props.onError(null);
    props.onNotice(null);
    // With a file, the text is its caption (SPEC 10); a canned response goes alone, filled by the server.
    const body = cannedResponse !== undefined ? { cannedResponse } : file?.mediaId ? { ...(text.trim() === '' ? {} : { text }), media: { id: file.mediaId } } : { text };
    const outcome = await reply.send(() => api.post(`${path}/replies`, body, { idempotencyKey }));
    if (outcome.kind === 'sent' && file && attachmentRef.current?.key === file.key) removeAttachment();
    const typedSince = current.current.text !== text;
    settle(outcome, 'Reply', {
      sent: () => {
        // What was typed while it went out stays, as a new message with its own key.
        if (typedSince) setDraft({ text: current.current.text, idempotencyKey: newIdempotencyKey() });
        else setDraftState((current.current = drafts.clear(c.id)));
      },
      // Refused for good under this key: the text stays to be changed or sent later, under a new key.
      refused: () => setDraft({ text: current.current.text, idempotencyKey: newIdempotencyKey() }),
    });
  };

  const sendTemplate = async () => {
    const sent = template;
    if (!sent.name) return;
    props.onError(null);
    props.onNotice(null);
    const definition = definitionOf(sent);
    if (definition && missingField(definition, sent.fields)) return;
    const body = definition ? templateSendOf(definition, sent.fields) : { name: sent.name, language: sent.language || undefined };
    const outcome = await templateSender.send(() => api.post(`${path}/templates`, body, { idempotencyKey: sent.idempotencyKey }));
    settle(outcome, 'Template', {
      sent: () => {
        drafts.clear(c.id, 'template');
        setTemplateState({ name: '', language: sent.language, idempotencyKey: newIdempotencyKey(), fields: {} });
        props.onNotice(`Template “${sent.name}” sent`);
      },
      refused: () => setTemplate({ ...sent, idempotencyKey: newIdempotencyKey() }),
    });
  };

  // Typing `/` opens the canned responses: a choice the page can fill goes into the box to edit; one that
  // needs the contact's attributes is sent by its code, and the server fills it (or says what is missing).
  const picker = useCannedPicker({
    api,
    accountId: me.accountId,
    draft: draft.text,
    onChoose: (response) => {
      const choice = choiceOf(response, { customerName: c.customerName, agentName: me.name });
      if (choice.kind === 'insert') {
        setDraft({ ...current.current, text: choice.text });
        textarea.current?.focus();
      } else void sendReply(choice.shortCode);
    },
  });

  const left = timeLeft(c.windowExpiresAt, now);
  const windowWords = serviceWindowWords(props.serviceWindow);
  const templateForm = (open: boolean) => (
    <details class="template-box" open={open}>
      <summary>Send a template</summary>
      <form
        class="template"
        onSubmit={(e) => {
          e.preventDefault();
          void sendTemplate();
        }}
      >
        {approved.length > 0 ? (
          <TemplatePicker templates={approved} value={template} onChange={(next) => setTemplate({ ...template, ...next })} />
        ) : (
          <>
            <label>
              Template name
              <input value={template.name} maxLength={512} onInput={(e) => setTemplate({ ...template, name: e.currentTarget.value })} />
            </label>
            <label>
              Language
              <input value={template.language} size={5} maxLength={15} onInput={(e) => setTemplate({ ...template, language: e.currentTarget.value })} />
            </label>
          </>
        )}
        <button type="submit" disabled={!template.name || templateSender.busy || Boolean(definitionOf(template) && missingField(definitionOf(template)!, template.fields))}>
          {templateSender.busy ? 'Sending…' : 'Send template'}
        </button>
      </form>
    </details>
  );

  switch (mode.kind) {
    case 'closed':
      return (
        <div class="composer">
          <p class="window closed" role="status">
            This conversation is closed: send a template to write to the customer again.
          </p>
          {templateForm(true)}
        </div>
      );
    case 'automation':
      return (
        <div class="composer">
          <p class="window" role="status">
            An automation is handling this conversation. {me.role === 'agent' ? 'It comes to the team when the flow ends.' : 'Assign it to take it from the automation.'}
          </p>
        </div>
      );
    case 'held': {
      const holder = nameOf(mode.by);
      return (
        <div class="composer held">
          <p class="window" role="status">
            <strong>{holder}</strong> holds this conversation: only they can write to the customer.{' '}
            {me.role === 'agent' ? `Ask a supervisor to assign it to you if you should take it.` : 'Take over to reply yourself, or assign it to someone else.'}
          </p>
        </div>
      );
    }
    case 'parked':
      return (
        <div class="composer">
          <p class="window" role="status">
            {mode.status === 'waiting'
              ? 'This conversation is waiting: revive it to reply.'
              : mode.status === 'snoozed'
                ? 'This conversation is snoozed: unsnooze it to reply.'
                : 'This conversation is in wrap-up: finish it when you are done.'}
          </p>
        </div>
      );
    case 'reply':
      break;
    default: {
      const unreachable: never = mode;
      return unreachable;
    }
  }

  const windowOpen = left !== null;
  // SPEC 10: the customer sees "typing…" while the assignee types (best effort: a refusal changes nothing here).
  const showTyping = () => {
    if (!windowOpen || c.assigneeId !== me.userId || !typingThrottle.shouldSend(c.id, Date.now())) return;
    api.post(`${path}/typing`, {}).catch(() => undefined);
  };
  const tooLong = draft.text.length > maxReplyLength;
  return (
    <div class="composer">
      <p class={`window ${windowOpen ? 'open' : 'closed'}`} role="status">
        {windowOpen
          ? `You can reply freely for ${left} more (the ${windowWords} window after the customer's last message).`
          : `The ${windowWords} customer-service window has closed: free-form replies are refused until the customer writes again. Send a template instead.`}
      </p>
      <form
        class="reply"
        onSubmit={(e) => {
          e.preventDefault();
          void sendReply();
        }}
      >
        <label for="reply-text" class="visually-hidden">
          Reply
        </label>
        <textarea
          id="reply-text"
          ref={textarea}
          placeholder={windowOpen ? 'Write a reply… (Ctrl+Enter sends, / for canned responses)' : 'Free-form replies are refused now'}
          {...picker.textareaProps}
          value={draft.text}
          rows={2}
          aria-describedby={tooLong ? 'reply-length' : undefined}
          aria-invalid={tooLong || undefined}
          onInput={(e) => {
            setDraft({ ...draft, text: e.currentTarget.value });
            showTyping();
          }}
          onKeyDown={(e) => {
            if (picker.onKeyDown(e)) return;
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void sendReply();
            }
            // Escape leaves the box (the draft stays); it does not close the conversation.
            if (e.key === 'Escape') {
              e.stopPropagation();
              e.currentTarget.blur();
            }
          }}
        />
        <label class="attach">
          <span class="visually-hidden">Attach a file</span>
          <span aria-hidden="true">📎</span>
          <input
            type="file"
            class="visually-hidden"
            accept={acceptedTypes}
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              if (file) attach(file);
              e.currentTarget.value = '';
            }}
          />
        </label>
        <button type="submit" disabled={(draft.text.trim() === '' && !attachment?.mediaId) || (attachment !== null && !attachment.mediaId) || tooLong || reply.busy}>
          {reply.busy ? 'Sending…' : 'Send'}
        </button>
      </form>
      {picker.view}
      {attachment && <AttachmentView attachment={attachment} onRemove={removeAttachment} />}
      {attachment && draft.text.trim() !== '' && !takesCaption(attachment.type) && (
        <p class="hint" role="status">
          WhatsApp shows no caption with audio or a sticker: send the text as its own reply.
        </p>
      )}
      {draft.text.length > maxReplyLength - 200 && (
        <p id="reply-length" class={tooLong ? 'error length' : 'hint length'} role={tooLong ? 'alert' : undefined}>
          {tooLong
            ? `${draft.text.length - maxReplyLength} characters too long: WhatsApp takes at most ${maxReplyLength} in one message.`
            : `${maxReplyLength - draft.text.length} characters left.`}
        </p>
      )}
      {templateForm(!windowOpen)}
    </div>
  );
}
