import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The SECRETS_KEY `npm start` uses when none is set (SPEC section 12, "Secrets at rest"): 32 random
 * bytes, base64, generated once and kept under DATA_DIR (readable by the owner only) like the platform
 * key. Losing it loses the channel secrets stored with it, so it is never replaced: a file that holds no
 * usable key stops the start instead.
 */
export async function loadOrCreateSecretsKey(dataDir: string): Promise<{ key: string; file: string; created: boolean }> {
  const file = path.join(dataDir, 'secrets-key');
  const existing = await readKey(file);
  if (existing !== undefined) return { key: existing, file, created: false };

  await fs.mkdir(dataDir, { recursive: true });
  const key = crypto.randomBytes(32).toString('base64');
  try {
    // wx: if two starts race, the second keeps the first one's key instead of overwriting it.
    await fs.writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return { key, file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const raced = await readKey(file);
    if (raced === undefined) throw new Error(`${file} is empty; it should hold SECRETS_KEY`);
    return { key: raced, file, created: false };
  }
}

async function readKey(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const key = text.trim();
  // Not a key: refuse rather than generate another, which would leave the stored secrets unreadable.
  if (Buffer.from(key, 'base64').length !== 32) throw new Error(`${file} holds no 32-byte base64 key; restore it (secrets stored with it cannot be read without it)`);
  return key;
}
