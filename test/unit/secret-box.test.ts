/**
 * Channel secrets at rest (SPEC section 12): AES-256-GCM with a random IV per value, a key id so the
 * key can rotate, and the record and field as additional data so sealed values cannot be swapped.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { SecretsKeyError, createSecretBox, isSealed, plaintextSecretBox } from '../../store/secret-box';

const key = randomBytes(32);
const box = createSecretBox(key);
const context = 'acme/15550100001#appSecret';

describe('createSecretBox', () => {
  it('opens what it sealed, for any text', () => {
    fc.assert(fc.property(fc.string(), fc.string({ minLength: 1 }), (plaintext, where) => box.open(box.seal(plaintext, where), where) === plaintext));
  });

  it('seals the same secret differently each time (a random IV per value), and never shows it', () => {
    const secret = 'EAAG-very-secret-token';
    const a = box.seal(secret, context);
    const b = box.seal(secret, context);
    expect(a).not.toBe(b);
    for (const sealed of [a, b]) {
      expect(isSealed(sealed)).toBe(true);
      expect(sealed).not.toContain(secret);
      expect(sealed.startsWith(`cfsec1.${box.keyId}.`)).toBe(true);
      expect(box.isCurrent(sealed)).toBe(true);
    }
  });

  it('refuses a value moved to another record or field, without printing it', () => {
    const secret = 'app-secret-42';
    const sealed = box.seal(secret, context);
    for (const elsewhere of ['acme/15550100002#appSecret', 'acme/15550100001#accessToken', 'other/15550100001#appSecret']) {
      expect(() => box.open(sealed, elsewhere)).toThrow(SecretsKeyError);
      expect(() => box.open(sealed, elsewhere)).toThrow(/does not open/);
    }
  });

  it('fails loudly with another key, naming key ids and never the secret', () => {
    const secret = 'webhook-secret-xyz';
    const sealed = box.seal(secret, context);
    const other = createSecretBox(randomBytes(32));
    let message = '';
    try {
      other.open(sealed, context);
    } catch (error) {
      expect(error).toBeInstanceOf(SecretsKeyError);
      message = (error as Error).message;
    }
    expect(message).toContain(box.keyId);
    expect(message).toContain(other.keyId);
    expect(message).toContain(context);
    expect(message).not.toContain(secret);
    expect(message).not.toContain(key.toString('base64'));
  });

  it('refuses a value whose ciphertext was altered', () => {
    const sealed = box.seal('secret', context);
    const last = sealed.at(-2) === 'A' ? 'B' : 'A';
    expect(() => box.open(`${sealed.slice(0, -2)}${last}${sealed.at(-1)}`, context)).toThrow(SecretsKeyError);
    expect(() => box.open('cfsec1.nonsense', context)).toThrow(SecretsKeyError);
  });

  it('rotates: a new key opens what the previous one sealed (SECRETS_KEY_PREVIOUS) and seals anew', () => {
    const sealedBefore = box.seal('rotating', context);
    const rotated = createSecretBox(randomBytes(32), [key]);
    expect(rotated.isCurrent(sealedBefore)).toBe(false);
    expect(rotated.open(sealedBefore, context)).toBe('rotating');
    expect(rotated.isCurrent(rotated.seal('rotating', context))).toBe(true);
  });

  it('reads a value stored before encryption as it is', () => {
    expect(box.open('plain-old-secret', context)).toBe('plain-old-secret');
    expect(box.isCurrent('plain-old-secret')).toBe(false);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow(SecretsKeyError);
  });
});

describe('plaintextSecretBox (no SECRETS_KEY)', () => {
  it('stores values as given and refuses to pretend it can open sealed ones', () => {
    expect(plaintextSecretBox.seal('x', context)).toBe('x');
    expect(plaintextSecretBox.open('x', context)).toBe('x');
    expect(() => plaintextSecretBox.open(box.seal('x', context), context)).toThrow(/no SECRETS_KEY/);
  });
});
