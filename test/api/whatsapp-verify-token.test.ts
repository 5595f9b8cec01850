import crypto from 'node:crypto';
import type { Stack } from '../support/stack';
import type { Account } from '../support/scenario';
import { useStackWithAccount } from '../support/scenario';

/**
 * Issue 24 item 15: Meta's verification handshake compares `hub.verify_token` with the channels' tokens
 * in constant time and without telling the length: a compare that refuses unequal lengths before it
 * compares answers a wrong-length guess faster, which tells an attacker the token's length.
 */
describe('the WhatsApp verify-token compare', () => {
  const env = useStackWithAccount();
  let stack: Stack;
  let account: Account;
  const verifyToken = 'verify-token-of-exactly-33-chars!';

  beforeAll(async () => {
    ({ stack, account } = env);
    const saved = await stack.http.request('PUT', `/v1/accounts/${account.id}/channels/15550100077`, {
      key: account.keys.owner,
      body: { provider: 'whatsapp_cloud', phoneNumberId: '114002873009977', accessToken: 'access-token-77', appSecret: 'app-secret-77', verifyToken },
    });
    expect(saved.status).toBe(200);
  });

  afterEach(() => jest.restoreAllMocks());

  const handshake = (token: string) =>
    fetch(`${stack.baseUrl}/webhooks/whatsapp/${account.id}?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=4242`);

  test.each([
    ['shorter than', 'short-guess'],
    ['longer than', `${verifyToken}-and-more`],
    ['as long as', verifyToken.replace('v', 'w')],
  ])('a wrong token %s the right one is compared as two fixed-length digests, and refused', async (_, guess) => {
    const compare = jest.spyOn(crypto, 'timingSafeEqual');
    const res = await handshake(guess);
    expect(res.status).toBe(403);
    expect(compare).toHaveBeenCalled();
    for (const [a, b] of compare.mock.calls) expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
  });

  test('the right token answers the challenge', async () => {
    const res = await handshake(verifyToken);
    expect([res.status, await res.text()]).toEqual([200, '4242']);
  });
});
