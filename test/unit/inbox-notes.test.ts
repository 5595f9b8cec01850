import fc from 'fast-check';
import { insertMention, maxSuggestions, mentionCandidates, mentionQueryAt, mentionsIn } from '../../inbox/src/mentions';
import { noticeForMention } from '../../inbox/src/notify';

/** SPEC 10 in the inbox, the pure parts: the @mention being typed, whom it may name, and whom a note mentions. */
describe('@mentions in the note composer', () => {
  const users = [
    { id: 'ana-1', name: 'Ana Gómez', active: true },
    { id: 'bo', name: 'Bo Li', active: true },
    { id: 'andre', name: 'André Silva', active: true },
    { id: 'gone', name: 'Ann Gone', active: false },
  ];

  test.each([
    ['@', 1, { start: 0, query: '' }],
    ['hi @an', 6, { start: 3, query: 'an' }],
    ['hi @an and more', 6, { start: 3, query: 'an' }],
    ['line\n@bo', 8, { start: 5, query: 'bo' }],
    ['mail me@example', 15, null],
    ['no mention', 10, null],
    ['@ana-1 done', 11, null],
  ])('the query at the caret of %j (caret %i) is %j', (text, caret, expected) => {
    expect(mentionQueryAt(text, caret)).toEqual(expected);
  });

  test('candidates are active users whose id or a word of whose name starts with the query, ids first, accents and case ignored', () => {
    expect(mentionCandidates(users, 'an').map((u) => u.id)).toEqual(['ana-1', 'andre']);
    expect(mentionCandidates(users, 'GOM').map((u) => u.id)).toEqual(['ana-1']);
    expect(mentionCandidates(users, 'andré').map((u) => u.id)).toEqual(['andre']);
    expect(mentionCandidates(users, 'ann')).toEqual([]);
    expect(mentionCandidates(users, '').map((u) => u.id)).toEqual(['ana-1', 'andre', 'bo']);
    const many = Array.from({ length: 20 }, (_, i) => ({ id: `u${i}`, name: `User ${i}`, active: true }));
    expect(mentionCandidates(many, 'u')).toHaveLength(maxSuggestions);
  });

  test('picking replaces the query with @id and a space, and puts the caret after it', () => {
    const text = 'ask @an about it';
    const at = mentionQueryAt(text, 7)!;
    expect(insertMention(text, at, 'ana-1')).toEqual({ text: 'ask @ana-1 about it', caret: 11 });
    expect(insertMention('@b', mentionQueryAt('@b', 2)!, 'bo')).toEqual({ text: '@bo ', caret: 4 });
  });

  test('a note mentions each active user whose @id stands alone in it, once, in order', () => {
    expect(mentionsIn('@bo and @ana-1, then @bo again; ask @ana-1.', users)).toEqual(['bo', 'ana-1']);
    expect(mentionsIn('mail bo@bo.com or @gone or @nobody', users)).toEqual([]);
  });

  test('whatever is typed, every mention found is an active user, listed once', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('@', 'ana-1', 'bo', 'gone', ' ', '.', 'x', '\n', '-'), { maxLength: 30 }), (parts) => {
        const found = mentionsIn(parts.join(''), users);
        expect(new Set(found).size).toBe(found.length);
        for (const id of found) expect(users.find((u) => u.id === id)?.active).toBe(true);
      }),
    );
  });

  test('a mention notice names who wrote it and shows the note', () => {
    expect(noticeForMention({ conversationId: 'c1', messageId: 'note-3', by: 'bo', text: 'look at this' }, (id) => (id === 'bo' ? 'Bo Li' : id))).toEqual({
      event: 'mentioned',
      conversationId: 'c1',
      title: 'Bo Li mentioned you',
      body: 'look at this',
    });
  });
});
