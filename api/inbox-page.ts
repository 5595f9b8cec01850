import express from 'express';
import type { Logger } from 'pino';
import type { InboxAssets } from '../inbox/build';
import { buildInbox } from '../inbox/build';

/**
 * Serves the agent inbox (inbox/) at /app/. The page is bundled on the first request and kept in
 * memory; it talks to the API only through the public /v1 routes, with the key the user signs in with.
 */
export function inboxPage(log: Logger): express.Router {
  let assets: Promise<InboxAssets> | undefined;
  const load = () => {
    assets ??= buildInbox().catch((error: unknown) => {
      assets = undefined; // built again at the next request
      log.error({ err: error }, 'the inbox page could not be built');
      throw error;
    });
    return assets;
  };
  const router = express.Router();
  router.use((_req, res, next) => {
    // Only our own files: no inline script, nothing from elsewhere (the key lives in this page). `blob:`
    // pictures and video are the page's own previews of a file being attached (URL.createObjectURL).
    res.setHeader('content-security-policy', "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    res.setHeader('referrer-policy', 'no-referrer');
    next();
  });
  const send = (type: string, pick: (a: InboxAssets) => string) => async (_req: express.Request, res: express.Response) => {
    res.type(type).setHeader('cache-control', 'no-cache').send(pick(await load()));
  };
  router.get('/', (req, res, next) => (req.originalUrl.endsWith('/') || req.originalUrl.includes('/?') ? next() : res.redirect(301, '/app/')));
  router.get('/', send('html', (a) => a.html));
  router.get('/app.js', send('js', (a) => a.js));
  router.get('/app.css', send('css', (a) => a.css));
  router.get('/favicon.svg', (_req, res) => void res.type('image/svg+xml').setHeader('cache-control', 'max-age=86400').send(favicon));
  return router;
}

/** A speech bubble in the page's accent colour: browsers ask for an icon, and a 404 in the console helps nobody. */
export const favicon =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#0b6bcb" d="M6 4h20a4 4 0 0 1 4 4v12a4 4 0 0 1-4 4H14l-7 6v-6H6a4 4 0 0 1-4-4V8a4 4 0 0 1 4-4z"/><path fill="#fff" d="M9 11h14v2H9zm0 5h10v2H9z"/></svg>';
