import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of secrets at rest (SPEC section 12, "Secrets at rest"), with SECRETS_KEY.
 *
 * A sealed value is one string, `cfsec1.<key id>.<iv>.<ciphertext and tag>` (base64url parts):
 * AES-256-GCM with a random 96-bit IV per value. The key id (derived from the key, never the key) says
 * which key sealed it, so the key can rotate: the new key in SECRETS_KEY, the old ones in
 * SECRETS_KEY_PREVIOUS, and values are sealed again with the new key at their record's next write.
 * The additional data names the record and the field (`accounts/a1/channels/c1#appSecret`): a sealed
 * value copied into another record or field does not open.
 *
 * Errors name the record, the field and key ids, never a secret.
 */
export interface SecretBox {
  /** Seals a plaintext for `context` (the record and field it belongs to). */
  seal(plaintext: string, context: string): string;
  /** Opens a sealed value, or returns a value stored before encryption as it is. Throws SecretsKeyError. */
  open(stored: string, context: string): string;
  /** Sealed with the current key: can be written again as it is. */
  isCurrent(stored: string): boolean;
  /** The current key's id (for logs and errors). */
  readonly keyId: string;
}

/** A sealed value that cannot be opened: a missing or wrong key, or an altered record. Thrown loudly. */
export class SecretsKeyError extends Error {
  override name = 'SecretsKeyError';
}

const prefix = 'cfsec1.';
export const secretsKeyBytes = 32;

export function isSealed(stored: string): boolean {
  return stored.startsWith(prefix);
}

export function secretsKeyId(key: Buffer): string {
  return createHash('sha256').update('convoflow secrets key id\0').update(key).digest('hex').slice(0, 12);
}

/** The keyring: `current` seals and opens; each of `previous` only opens. */
export function createSecretBox(current: Buffer, previous: readonly Buffer[] = []): SecretBox {
  for (const key of [current, ...previous]) {
    if (key.length !== secretsKeyBytes) throw new SecretsKeyError(`a secrets key must be ${secretsKeyBytes} bytes (base64), not ${key.length}`);
  }
  const keyId = secretsKeyId(current);
  const keys = new Map<string, Buffer>([...previous.map((k) => [secretsKeyId(k), k] as const), [keyId, current]]);
  return {
    keyId,
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${prefix}${keyId}.${iv.toString('base64url')}.${data.toString('base64url')}`;
    },
    open(stored, context) {
      if (!isSealed(stored)) return stored;
      const [kid, ivText, dataText] = stored.slice(prefix.length).split('.');
      const key = kid === undefined ? undefined : keys.get(kid);
      if (key === undefined) {
        throw new SecretsKeyError(`${context} was sealed with secrets key ${kid ?? '?'}, which neither SECRETS_KEY (key ${keyId}) nor SECRETS_KEY_PREVIOUS holds`);
      }
      const iv = Buffer.from(ivText ?? '', 'base64url');
      const data = Buffer.from(dataText ?? '', 'base64url');
      try {
        if (iv.length !== 12 || data.length < 16) throw new Error('short');
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(data.subarray(data.length - 16));
        return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretsKeyError(`${context} does not open with secrets key ${kid}: the key is wrong, or the value was altered or moved from another record`);
      }
    },
    isCurrent(stored) {
      return stored.startsWith(`${prefix}${keyId}.`);
    },
  };
}

/**
 * No SECRETS_KEY (the embedded dev stack run by hand, tests that ask for it): values are stored as
 * given, and a sealed value cannot be opened.
 */
export const plaintextSecretBox: SecretBox = {
  keyId: 'none',
  seal: (plaintext) => plaintext,
  open(stored, context) {
    if (isSealed(stored)) throw new SecretsKeyError(`${context} is encrypted, and this process has no SECRETS_KEY to open it`);
    return stored;
  },
  isCurrent: (stored) => !isSealed(stored),
};
