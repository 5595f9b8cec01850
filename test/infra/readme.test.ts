import fs from 'node:fs';
import path from 'node:path';

describe('README', () => {
  const text = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

  test('says each thing once: no paragraph appears twice', () => {
    const paragraphs = text
      .split(/\n\s*\n|\n(?=#)/)
      .map((p) => p.replace(/\s+/g, ' ').trim())
      .filter((p) => p.length >= 80 && !p.startsWith('```') && !p.startsWith('|'));
    const repeated = paragraphs.filter((p, i) => paragraphs.indexOf(p) !== i);
    expect(repeated).toEqual([]);
  });
});
