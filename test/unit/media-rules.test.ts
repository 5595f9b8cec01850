/**
 * SPEC section 10, "Media out": which files WhatsApp takes and how large (core/media.ts), the Range
 * header of a media GET (api/byte-range.ts), and the names a served file carries (api/media.ts).
 */
import fc from 'fast-check';
import { parseByteRange } from '../../api/byte-range';
import { contentDispositionOf, filenameOf } from '../../api/media';
import { bareMimeType, judgeMediaUpload, maxBytesOf, mediaTypeOfMime, takesCaption } from '../../workflows/conversation/core/media';

const MB = 1024 * 1024;

describe('judgeMediaUpload', () => {
  it.each([
    ['image/jpeg', 5 * MB, 'image'],
    ['image/png', 5 * MB, 'image'],
    ['image/webp', 100 * 1024, 'sticker'],
    ['audio/ogg', 16 * MB, 'audio'],
    ['audio/mpeg', 16 * MB, 'audio'],
    ['video/mp4', 16 * MB, 'video'],
    ['video/3gpp', 16 * MB, 'video'],
    ['application/pdf', 100 * MB, 'document'],
    ['text/plain', 100 * MB, 'document'],
  ])('takes %s up to %i bytes exactly, as %s', (type, limit, mediaType) => {
    expect(judgeMediaUpload(type, limit)).toEqual({ ok: true, mimeType: type, mediaType, maxBytes: limit });
    expect(judgeMediaUpload(type, limit + 1)).toMatchObject({ ok: false, code: 'payload_too_large' });
  });

  it('reads the type without its parameters and in any case', () => {
    expect(judgeMediaUpload('Audio/OGG; codecs=opus', 10)).toMatchObject({ ok: true, mimeType: 'audio/ogg', mediaType: 'audio' });
    expect(bareMimeType(undefined)).toBe('');
  });

  it.each([undefined, '', 'text/html', 'image/gif', 'image/svg+xml', 'application/json', 'application/octet-stream', 'video/quicktime', 'constructor', '__proto__'])(
    'refuses %p with 400 validation_failed naming content-type',
    (type) => {
      const verdict = judgeMediaUpload(type, 10);
      expect(verdict).toMatchObject({ ok: false, code: 'validation_failed' });
      expect(!verdict.ok && verdict.message).toMatch(/^content-type: /);
    },
  );

  it('refuses an empty file', () => {
    expect(judgeMediaUpload('image/png', 0)).toMatchObject({ ok: false, code: 'validation_failed' });
  });

  it('a known type with an unknown size is taken, with the limit to count against', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(mediaTypeOfMime)), (type) => {
        const verdict = judgeMediaUpload(type);
        return verdict.ok && verdict.maxBytes === maxBytesOf[verdict.mediaType];
      }),
    );
  });

  it('captions go with images, videos and documents, not with audio or stickers', () => {
    expect(['image', 'video', 'document', 'audio', 'sticker'].map((t) => takesCaption(t as never))).toEqual([true, true, true, false, false]);
  });
});

describe('parseByteRange', () => {
  it.each([
    ['bytes=0-99', 1000, { start: 0, end: 99 }],
    ['bytes=100-', 1000, { start: 100, end: 999 }],
    ['bytes=-100', 1000, { start: 900, end: 999 }],
    ['bytes=-5000', 1000, { start: 0, end: 999 }],
    ['bytes=990-5000', 1000, { start: 990, end: 999 }],
    ['bytes=999-999', 1000, { start: 999, end: 999 }],
    ['bytes=1000-', 1000, 'unsatisfiable'],
    ['bytes=-0', 1000, 'unsatisfiable'],
    ['bytes=5-1', 1000, undefined],
    ['bytes=0-1,5-9', 1000, undefined],
    ['items=0-1', 1000, undefined],
    ['bytes=-', 1000, undefined],
    ['nonsense', 1000, undefined],
  ])('%s of %i bytes is %p', (header, size, expected) => {
    expect(parseByteRange(header, size)).toEqual(expected);
  });

  it('no header: the whole file', () => {
    expect(parseByteRange(undefined, 10)).toBeUndefined();
  });

  it('a range it answers lies within the file and is not empty', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 ** 9 }), fc.option(fc.nat()), fc.option(fc.nat()), (size, a, b) => {
        const header = `bytes=${a ?? ''}-${b ?? ''}`;
        const range = parseByteRange(header, size);
        if (range === undefined || range === 'unsatisfiable') return true;
        return range.start >= 0 && range.start <= range.end && range.end < size;
      }),
    );
  });
});

describe('what a served file is called', () => {
  const doc = { _id: 'med_x', mimeType: 'application/pdf', mediaType: 'document' as const };

  it('documents are attachments; pictures and sound inline', () => {
    expect(contentDispositionOf({ ...doc, filename: 'invoice.pdf' })).toBe('attachment; filename="invoice.pdf"');
    expect(contentDispositionOf({ ...doc, mimeType: 'image/png', mediaType: 'image', filename: null })).toBe('inline; filename="med_x.png"');
  });

  it('a name beyond ASCII goes as RFC 8187 UTF-8 too, and no quote breaks the header', () => {
    expect(contentDispositionOf({ ...doc, filename: 'Überweisung "März".pdf' })).toBe(
      `attachment; filename="_berweisung _M_rz_.pdf"; filename*=UTF-8''%C3%9Cberweisung%20%22M%C3%A4rz%22.pdf`,
    );
  });

  it('x-filename: percent-decoded, without a path; control characters and long names refused', () => {
    expect(filenameOf(undefined)).toBeNull();
    expect(filenameOf('caf%C3%A9.txt')).toBe('café.txt');
    expect(filenameOf('../../etc/passwd')).toBe('passwd');
    expect(filenameOf('C:\\Users\\x\\photo.jpg')).toBe('photo.jpg');
    expect(() => filenameOf('a%0Ab')).toThrow(/x-filename/);
    expect(() => filenameOf('x'.repeat(256))).toThrow(/x-filename/);
    expect(() => filenameOf('dir/')).toThrow(/x-filename/);
  });
});
