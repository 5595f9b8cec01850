/**
 * Interactive replies (SPEC section 10): reply buttons and lists, and the limits WhatsApp puts on them.
 * The API refuses a message outside these limits with 400 `validation_failed` naming the field, before
 * anything is stored or sent: Graph would refuse it later (error 131009, "parameter value is not
 * valid"), as a failed delivery the agent only sees after the fact.
 *
 * The limits are Meta's, from the Cloud API's interactive message reference (button and list messages):
 * body 1,024 characters; 1 to 3 reply buttons, title 20, id 256; a list's button label 20; 1 to 10
 * sections, title 24, required once there are two; at most 10 rows over all sections, row id 200, title
 * 24, description 72. Ids are unique within the message (the customer's choice comes back by id, so two
 * equal ids could not be told apart) and so are button titles (Graph refuses duplicates).
 *
 * Stored as is: sections hold arrays of objects, never arrays of arrays, which FerretDB refuses.
 *
 * Pure and a leaf like outbound.ts, which imports its types.
 */

export interface ReplyButton {
  id: string;
  title: string;
}

export interface ListRow {
  id: string;
  title: string;
  description?: string;
}

export interface ListSection {
  /** Required when the list has more than one section. */
  title?: string;
  rows: ListRow[];
}

export interface ButtonMessage {
  type: 'button';
  body: string;
  buttons: ReplyButton[];
}

export interface ListMessage {
  type: 'list';
  body: string;
  /** The label of the button that opens the list. */
  button: string;
  sections: ListSection[];
}

export type InteractiveMessage = ButtonMessage | ListMessage;

export const interactiveLimits = {
  body: 1024,
  buttons: 3,
  buttonTitle: 20,
  buttonId: 256,
  listButton: 20,
  sections: 10,
  sectionTitle: 24,
  rows: 10,
  rowId: 200,
  rowTitle: 24,
  rowDescription: 72,
} as const;

/** Where a message breaks a limit: the path below the interactive object (`buttons.1.title`), and why. */
export interface InteractiveProblem {
  path: (string | number)[];
  message: string;
}

/** Every limit the message breaks, in field order; empty when WhatsApp would take it. */
export function interactiveProblems(message: InteractiveMessage): InteractiveProblem[] {
  const problems: InteractiveProblem[] = [];
  const text = (path: (string | number)[], value: string | undefined, max: number, required = true): void => {
    if (value === undefined) {
      if (required) problems.push({ path, message: 'required' });
      return;
    }
    if (value.trim() === '') problems.push({ path, message: 'must not be blank' });
    // Meta counts characters; a code point is the closest the API can count without the client's font.
    else if (lengthOf(value) > max) problems.push({ path, message: `at most ${max} characters, got ${lengthOf(value)}` });
  };
  text(['body'], message.body, interactiveLimits.body);
  switch (message.type) {
    case 'button': {
      const { buttons } = message;
      if (buttons.length < 1 || buttons.length > interactiveLimits.buttons) {
        problems.push({ path: ['buttons'], message: `1 to ${interactiveLimits.buttons} buttons, got ${buttons.length}` });
      }
      const ids = new Set<string>();
      const titles = new Set<string>();
      buttons.forEach((button, i) => {
        text(['buttons', i, 'id'], button.id, interactiveLimits.buttonId);
        text(['buttons', i, 'title'], button.title, interactiveLimits.buttonTitle);
        if (ids.has(button.id)) problems.push({ path: ['buttons', i, 'id'], message: `"${button.id}" is used twice; ids are unique` });
        if (titles.has(button.title)) problems.push({ path: ['buttons', i, 'title'], message: 'used twice; button titles are unique' });
        ids.add(button.id);
        titles.add(button.title);
      });
      return problems;
    }
    case 'list': {
      text(['button'], message.button, interactiveLimits.listButton);
      const { sections } = message;
      if (sections.length < 1 || sections.length > interactiveLimits.sections) {
        problems.push({ path: ['sections'], message: `1 to ${interactiveLimits.sections} sections, got ${sections.length}` });
      }
      const rowCount = sections.reduce((sum, section) => sum + section.rows.length, 0);
      if (rowCount > interactiveLimits.rows) problems.push({ path: ['sections'], message: `at most ${interactiveLimits.rows} rows over all sections, got ${rowCount}` });
      const ids = new Set<string>();
      sections.forEach((section, s) => {
        text(['sections', s, 'title'], section.title, interactiveLimits.sectionTitle, sections.length > 1);
        if (section.rows.length < 1) problems.push({ path: ['sections', s, 'rows'], message: 'at least 1 row' });
        section.rows.forEach((row, r) => {
          const at = ['sections', s, 'rows', r];
          text([...at, 'id'], row.id, interactiveLimits.rowId);
          text([...at, 'title'], row.title, interactiveLimits.rowTitle);
          text([...at, 'description'], row.description, interactiveLimits.rowDescription, false);
          if (ids.has(row.id)) problems.push({ path: [...at, 'id'], message: `"${row.id}" is used twice; ids are unique` });
          ids.add(row.id);
        });
      });
      return problems;
    }
  }
}

/** Every choice the customer can pick, in order: what the inbox shows under the body. */
export function choicesOf(message: InteractiveMessage): { id: string; title: string; description?: string }[] {
  switch (message.type) {
    case 'button':
      return message.buttons;
    case 'list':
      return message.sections.flatMap((section) => section.rows);
  }
}

function lengthOf(value: string): number {
  return Array.from(value).length;
}
