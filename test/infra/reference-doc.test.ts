import fs from 'node:fs';
import { referencePath, renderReference } from '../../dev/reference-doc';

/** Issue 11, item 11: the repository's own reference is generated from the code, and kept current. */
test('docs/reference.md is what `npm run docs` generates from the code today', () => {
  expect(fs.readFileSync(referencePath, 'utf8')).toBe(renderReference());
});

test('the reference names every route, error code, Temporal name and configuration variable a user needs', () => {
  const text = renderReference();
  for (const needle of ['`/v1/accounts/{accountId}/conversations/{conversationId}/replies`', '`/webhooks/whatsapp/{accountId}`', '`window_expired` | 409', '`customerMessage`', '`deliveryStatus`', '`ConversationStatus`', '`WHATSAPP_GRAPH_URL`']) {
    expect(text).toContain(needle);
  }
});
