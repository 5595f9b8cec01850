/**
 * Links to a stored file for the webhook provider (SPEC section 10, "Media out"): a backend that sends
 * to customers itself gets, with a media message, a path it may fetch without a key, for a while. The
 * link names the account, the file and when it expires, and carries an HMAC-SHA256 of those three with
 * the deployment's link key (store/media-link-key.ts): nothing in it can be changed, and it opens no
 * other file. Checked in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How long a link works: a backend that retries for a day still finds the file; each delivery attempt gets a fresh link. */
export const mediaLinkLifetimeMs = 24 * 3_600_000;

export interface MediaLink {
  accountId: string;
  mediaId: string;
  /** Unix seconds. */
  expires: number;
}

function signatureOf(link: MediaLink, key: Buffer): string {
  return createHmac('sha256', key).update(`media-link\n${link.accountId}\n${link.mediaId}\n${link.expires}`).digest('base64url');
}

/** The path of a link (relative to the API's base URL), valid until `expires`. */
export function mediaLinkPath(link: MediaLink, key: Buffer): string {
  const query = new URLSearchParams({ expires: String(link.expires), signature: signatureOf(link, key) });
  return `/v1/accounts/${encodeURIComponent(link.accountId)}/media/${encodeURIComponent(link.mediaId)}/link?${query.toString()}`;
}

export type MediaLinkVerdict = 'valid' | 'expired' | 'invalid';

/** Whether a link's parts are ones we signed, and still in time (`now` epoch ms). */
export function checkMediaLink(link: { accountId: string; mediaId: string; expires?: string | undefined; signature?: string | undefined }, key: Buffer, now: number): MediaLinkVerdict {
  if (link.expires === undefined || link.signature === undefined || !/^\d{1,12}$/.test(link.expires)) return 'invalid';
  const expected = Buffer.from(signatureOf({ accountId: link.accountId, mediaId: link.mediaId, expires: Number(link.expires) }, key));
  const given = Buffer.from(link.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return Number(link.expires) * 1000 > now ? 'valid' : 'expired';
}
