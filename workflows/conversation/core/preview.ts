/**
 * The inbox list's one-line preview of a timeline message (issue 22, item 12): its words when it has
 * any (text, caption, button title), otherwise a word for its kind. Pure, so the core computes it when
 * it records the message and every reader (view, stream, list) shows the same line.
 */
import type { MessageKind, MessageRecord } from './model';

/** At most this many characters (Unicode code points, so an emoji is never cut in half). */
export const previewLength = 120;

const kindWords: { [K in MessageKind]: string } = {
  text: 'message',
  button: 'button reply',
  interactive: 'reply',
  image: '📷 image',
  audio: '🎵 audio',
  video: '🎥 video',
  document: '📄 document',
  sticker: '💟 sticker',
  location: '📍 location',
  contacts: '👤 contact',
  reaction: 'reaction',
  order: '🛒 order',
  system: 'system message',
  unsupported: 'unsupported message',
  template: '📋 template',
  note: '📝 note',
};

type Previewed = Pick<MessageRecord, 'kind' | 'text' | 'content' | 'template'>;

export function previewOf(message: Previewed): string {
  return clip(words(message));
}

function words({ kind, text, content, template }: Previewed): string {
  const own = text ?? content?.media?.caption ?? content?.choice?.title;
  if (own !== undefined && own.trim() !== '') return own.replace(/\s+/g, ' ').trim();
  switch (kind) {
    case 'template':
      return template ? `${kindWords.template}: ${template.name}` : kindWords.template;
    case 'audio':
      return content?.media?.voice ? '🎤 voice message' : kindWords.audio;
    case 'document':
      return content?.media?.filename ? `${kindWords.document}: ${content.media.filename}` : kindWords.document;
    case 'location': {
      const place = content?.location?.name ?? content?.location?.address;
      return place ? `${kindWords.location}: ${place}` : kindWords.location;
    }
    case 'reaction':
      return content?.reaction?.emoji ? `reacted ${content.reaction.emoji}` : 'removed a reaction';
    case 'text':
    case 'button':
    case 'interactive':
    case 'image':
    case 'video':
    case 'sticker':
    case 'contacts':
    case 'order':
    case 'system':
    case 'unsupported':
    case 'note':
      return kindWords[kind];
  }
}

/** Cuts to `previewLength` code points, the last one an ellipsis when anything was cut. */
function clip(text: string): string {
  const points = Array.from(text);
  return points.length <= previewLength ? text : `${points.slice(0, previewLength - 1).join('')}…`;
}
