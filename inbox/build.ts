import fs from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

/** The inbox page's files as the API serves them under /app/. */
export interface InboxAssets {
  html: string;
  js: string;
  css: string;
}

const root = __dirname;

/**
 * Bundles the page with esbuild, in memory, when the API first serves /app/ (about a second): so
 * `npm start`, `npm test` and a Docker image all serve a page built from the sources they run, with no
 * build step to forget and nothing written into the tree.
 */
export async function buildInbox(): Promise<InboxAssets> {
  const result = await build({
    entryPoints: [path.join(root, 'src', 'main.tsx')],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'silent',
    legalComments: 'none',
  });
  const js = result.outputFiles[0]!.text;
  const [html, css] = await Promise.all([fs.readFile(path.join(root, 'index.html'), 'utf8'), fs.readFile(path.join(root, 'src', 'inbox.css'), 'utf8')]);
  return { html, js, css };
}

/** `tsx inbox/build.ts [dir]`: writes the bundle to a folder (default inbox/dist) for a static server. */
if (require.main === module) {
  const out = process.argv[2] ?? path.join(root, 'dist');
  void buildInbox().then(async ({ html, js, css }) => {
    await fs.mkdir(out, { recursive: true });
    await Promise.all([fs.writeFile(path.join(out, 'index.html'), html), fs.writeFile(path.join(out, 'app.js'), js), fs.writeFile(path.join(out, 'app.css'), css)]);
    console.log(`inbox written to ${out}`);
  });
}
