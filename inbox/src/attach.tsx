/**
 * Attaching a file to a reply (SPEC 10, "Media out"): the file is uploaded as soon as it is chosen
 * (POST /v1/accounts/{accountId}/media, the bytes as the body), with a preview and a progress bar, and
 * the reply then names it. XMLHttpRequest, not fetch: only it reports upload progress.
 */
import type { Api } from './api';
import { ApiFailure } from './api';

export interface Attachment {
  /** Which pick this is: an upload's progress is only for the file still attached. */
  key: number;
  name: string;
  type: string;
  /** An object URL for pictures and video, shown while and after uploading; null for other files. */
  preview: string | null;
  /** 0..1 while uploading. */
  progress: number;
  /** Once stored: the id the reply sends. */
  mediaId: string | null;
  error: string | null;
}

/** WhatsApp's types (the server checks them, and sizes, again). */
export const acceptedTypes =
  'image/jpeg,image/png,image/webp,audio/aac,audio/amr,audio/mpeg,audio/mp4,audio/ogg,video/mp4,video/3gpp,text/plain,application/pdf,application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.ms-excel,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.ms-powerpoint,application/vnd.openxmlformats-officedocument.presentationml.presentation';

/** Whether text may go with this file as its caption: not with audio or a sticker (WebP). */
export const takesCaption = (type: string) => !type.startsWith('audio/') && type !== 'image/webp';

export function newAttachment(file: File, key: number): Attachment {
  const shown = file.type.startsWith('image/') || file.type.startsWith('video/');
  return { key, name: file.name, type: file.type, preview: shown ? URL.createObjectURL(file) : null, progress: 0, mediaId: null, error: null };
}

/** Uploads one file; resolves with its media id. Progress is reported as 0..1. */
export function uploadFile(api: Api, accountId: string, file: File, onProgress: (fraction: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/accounts/${encodeURIComponent(accountId)}/media`);
    xhr.withCredentials = true;
    for (const [name, value] of Object.entries(api.credentials())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    // A header is Latin-1: the name goes percent-encoded, which the server decodes.
    xhr.setRequestHeader('x-filename', encodeURIComponent(file.name));
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: { id?: string; error?: { code?: string; message?: string } } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // not JSON: the status says enough
      }
      if (xhr.status === 201 && body.id) return resolve(body.id);
      if (xhr.status === 401) api.sessionEnded();
      reject(new ApiFailure(xhr.status, body.error?.code ?? 'error', body.error?.message ?? `the server answered ${xhr.status}`));
    };
    xhr.onerror = () => reject(new ApiFailure(0, 'network', 'the upload did not reach the server'));
    xhr.send(file);
  });
}

export function AttachmentView({ attachment, onRemove }: { attachment: Attachment; onRemove: () => void }) {
  const { preview, type, name, progress, mediaId, error } = attachment;
  return (
    <div class="attachment" data-state={error ? 'failed' : mediaId ? 'ready' : 'uploading'}>
      {preview && type.startsWith('image/') && <img src={preview} alt={name} />}
      {preview && type.startsWith('video/') && <video src={preview} muted />}
      <span class="attachment-name">{name}</span>
      {!mediaId && !error && <progress max={1} value={progress} aria-label={`Uploading ${name}`} />}
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
      <button type="button" onClick={onRemove} aria-label={`Remove ${name}`}>
        ✕
      </button>
    </div>
  );
}
