import { z } from 'zod';
import { routes } from '../../api/app';
import { openAnswer, sealAnswer } from '../../api/idempotency';
import { operationIdOf } from '../../api/route';

/**
 * SPEC section 12 / issue 24 item 12: no answer that holds a secret is stored in plaintext by
 * Idempotency-Key. Routes say so with `answersSecret`; these checks keep a new route from forgetting.
 */
describe('answers that hold a secret', () => {
  test('every route whose answer schema has a key or token is marked answersSecret, and the stream ticket too', () => {
    const credentialField = /"(apiKey|token)"/;
    const holdsCredential = routes.filter((def) => def.response && credentialField.test(JSON.stringify(z.toJSONSchema(def.response, { io: 'output', unrepresentable: 'any' }))));
    expect(holdsCredential.filter((def) => !def.answersSecret).map(operationIdOf)).toEqual([]);
    expect(routes.filter((def) => def.answersSecret).map(operationIdOf).sort()).toEqual([
      'postAccountsServiceKeys',
      'postAccountsServiceKeysRotate',
      'postAccountsStreamTickets',
      'postAccountsUsers',
      'postAccountsUsersKeysRotate',
      'postSessions',
    ]);
  });

  test('a sealed answer opens only with the credential and record it was sealed for', () => {
    const sealed = sealAnswer('cf_u_credential', 'record-1', '{"apiKey":"cf_s_secret"}');
    expect(sealed).not.toContain('cf_s_secret');
    expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain('cf_s_secret');
    expect(openAnswer('cf_u_credential', 'record-1', sealed)).toBe('{"apiKey":"cf_s_secret"}');
    expect(openAnswer('cf_u_other', 'record-1', sealed)).toBeUndefined();
    expect(openAnswer('cf_u_credential', 'record-2', sealed)).toBeUndefined();
    expect(openAnswer('cf_u_credential', 'record-1', 'not base64 at all')).toBeUndefined();
  });
});
