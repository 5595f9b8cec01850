/** The names the API starts inbound media fetches by (the workflow lives beside this file). */
export const inboundMediaWorkflowType = 'inboundMediaWorkflow';

/** One workflow per stored file: a webhook Meta delivers again starts nothing new. */
export function inboundMediaWorkflowId(accountId: string, mediaId: string): string {
  return `media/${accountId}/${mediaId}`;
}

/** What the fetch needs: whose file, which channel's token, the provider's id, and our id to keep it under. */
export interface InboundMediaFetch {
  accountId: string;
  channel: string;
  /** Ours: what `content.media.id` says and GET .../media/{id} takes. */
  mediaId: string;
  providerMediaId: string;
  mediaType: 'image' | 'audio' | 'video' | 'document' | 'sticker';
  mimeType?: string;
  filename?: string;
}

export type InboundMediaOutcome = { outcome: 'stored'; size: number } | { outcome: 'failed'; error: { code: number | string; message: string } };
