import { z } from 'zod';
import { everyUser } from '../auth';
import { serveMedia, uploadMedia } from '../media';
import { defineRoute } from '../route';
import { mediaTypeOfMime } from '../../workflows/conversation/core/media';
import { checkMediaLink } from '../../channels/media-links';
import { cachedMediaLinkKey } from '../../store/media-link-key';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';

const mediaView = z.object({
  id: z.string(),
  mimeType: z.string(),
  size: z.number().int(),
  sha256: z.string().describe('hex SHA-256 of the bytes'),
  filename: z.string().nullable(),
});

export const mediaRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/media',
    summary:
      "Upload a file to send as media: the raw bytes as the body, content-type the file's type, x-filename optional. Types and sizes as WhatsApp takes them (image 5 MB, audio and video 16 MB, document 100 MB, sticker 100 KB; MB = 2^20 bytes): another type 400, larger 413 payload_too_large; nothing is kept of a refused file",
    allow: [...everyUser, 'service'],
    upload: { mimeTypes: Object.keys(mediaTypeOfMime) },
    status: 201,
    response: mediaView,
    refusals: { 413: 'payload_too_large: larger than WhatsApp takes for its type' },
    handler: async ({ deps, req, res, params, principal }) => uploadMedia(deps, req, res, params.accountId!, principal),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/media/{mediaId}',
    summary:
      "A stored file (uploaded, or fetched for a customer's message), to users of the account: its own content-type and content-disposition; a Range of bytes answers 206 (players seek), one past the end 416. Another account's id answers 404",
    allow: everyUser,
    binary: true,
    refusals: { 416: 'range_not_satisfiable: the range starts past the end of the file' },
    handler: async ({ deps, req, res, params }) => serveMedia(deps, req, res, params.accountId!, params.mediaId!),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/media/{mediaId}/link',
    summary:
      "A stored file through a signed, expiring link (no key): what the webhook provider's media messages carry as `media.url` for the backend to fetch. A link altered or expired answers 403; ranges as for the file itself",
    query: z.object({ expires: z.string().max(20).optional(), signature: z.string().max(100).optional() }),
    binary: true,
    refusals: { 403: 'forbidden: the link is altered or expired' },
    handler: async ({ deps, req, res, params, query }) => {
      const verdict = checkMediaLink({ accountId: params.accountId!, mediaId: params.mediaId!, ...query }, await linkKeyOf(deps)(), Date.now());
      if (verdict !== 'valid') throw new ApiError({ code: 'forbidden', message: verdict === 'expired' ? 'the link has expired; ask for the message again' : 'the link is not valid' });
      await serveMedia(deps, req, res, params.accountId!, params.mediaId!);
    },
  }),
];

/** One key reader per app (its database), read once. */
const linkKeys = new WeakMap<ApiDeps, () => Promise<Buffer>>();
function linkKeyOf(deps: ApiDeps): () => Promise<Buffer> {
  let read = linkKeys.get(deps);
  if (!read) linkKeys.set(deps, (read = cachedMediaLinkKey(deps.db, deps.collections.channelSecrets)));
  return read;
}
