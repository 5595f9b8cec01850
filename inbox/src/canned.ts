/**
 * The composer's `/` picker of canned responses (SPEC 10): when the draft is a `/` and a word, it searches
 * the caller's canned responses (`GET .../canned-responses?q=`, which ignores the `/`). Pure, so
 * test/unit/inbox-canned.test.ts covers it; inbox/src/canned-picker.tsx draws it.
 */

export interface CannedResponse {
  shortCode: string;
  scope: 'account' | 'personal';
  title: string;
  text: string;
  /** The variables its text holds: `customer.name`, `agent.name`, `attributes.<key>`. */
  variables: string[];
}

/** The picker's query when the draft asks for it (a `/` then a word, nothing else), else null. */
export function pickerQueryOf(draft: string): string | null {
  const match = /^\/([^\s/]*)$/.exec(draft);
  return match ? match[1]! : null;
}

/**
 * What choosing a response does: its text filled with what the page knows (the customer's name, the
 * agent's own), to edit before sending; or, when it needs what only the server has (the contact's
 * attributes) or a name the page lacks, the short code sent as it is, filled by the server.
 */
export type Choice = { kind: 'insert'; text: string } | { kind: 'send'; shortCode: string };

export function choiceOf(response: CannedResponse, known: { customerName: string | null; agentName: string }): Choice {
  let unknown = false;
  const text = response.text.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (whole, name: string) => {
    const value = name === 'customer.name' ? known.customerName : name === 'agent.name' ? known.agentName : null;
    if (value === null || value.trim() === '') {
      unknown = true;
      return whole;
    }
    return value;
  });
  return unknown ? { kind: 'send', shortCode: response.shortCode } : { kind: 'insert', text };
}

/** The next highlighted row after an arrow key, wrapping around; -1 when there is none. */
export function moveActive(active: number, count: number, by: 1 | -1): number {
  if (count === 0) return -1;
  if (active < 0 || active >= count) return by === 1 ? 0 : count - 1;
  return (((active + by) % count) + count) % count;
}
