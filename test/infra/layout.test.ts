import fs from 'node:fs';
import path from 'node:path';

/**
 * infra/DESIGN.md: what a deployment runs (the product folders and infra/) never imports the development
 * machine's tooling (dev/), the harnesses (bench/, chaos/) or the tests, so a deployment needs exactly
 * the product folders and infra/.
 */

const root = path.resolve(__dirname, '../..');
const production = ['activities', 'api', 'channels', 'infra', 'store', 'worker', 'workflows'];
const devOnly = ['dev', 'bench', 'chaos', 'test'];

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(rel);
    return /\.tsx?$/.test(entry.name) ? [rel] : [];
  });
}

/** Relative import and require specifiers, including `import type` and dynamic imports. */
function relativeImports(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/(?:from|import|require)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
}

describe('layout', () => {
  it('keeps production code free of imports from dev/, bench/, chaos/ and test/', () => {
    const offending = production.flatMap(sources).flatMap((file) =>
      relativeImports(file)
        .map((spec) => path.relative(root, path.resolve(root, path.dirname(file), spec)))
        .filter((target) => devOnly.some((dir) => target === dir || target.startsWith(`${dir}/`)))
        .map((target) => `${file} imports ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('finds the files it checks (the folder list is not stale)', () => {
    for (const dir of [...production, ...devOnly]) expect(fs.existsSync(path.join(root, dir))).toBe(true);
    expect(sources('infra')).toEqual(expect.arrayContaining(['infra/config.ts', 'infra/temporal-setup.ts']));
  });
});
