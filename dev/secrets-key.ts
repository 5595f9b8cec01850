import crypto from 'node:crypto';
import { loadOrCreateKeyFile } from './key-file';

/**
 * The SECRETS_KEY `npm start` uses when none is set (SPEC section 12, "Secrets at rest"): 32 random
 * bytes, base64, generated once and kept under DATA_DIR (readable by the owner only) like the platform
 * key. Losing it loses the channel secrets stored with it, so it is never replaced: a file that holds no
 * usable key stops the start instead.
 */
export function loadOrCreateSecretsKey(dataDir: string): Promise<{ key: string; file: string; created: boolean }> {
  return loadOrCreateKeyFile(dataDir, {
    name: 'secrets-key',
    generate: () => crypto.randomBytes(32).toString('base64'),
    // Not a key: refuse rather than generate another, which would leave the stored secrets unreadable.
    unusable: (key) => (Buffer.from(key, 'base64').length === 32 ? undefined : 'holds no 32-byte base64 key; restore it (secrets stored with it cannot be read without it)'),
  });
}
