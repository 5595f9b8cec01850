import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The platform API key `npm start` uses when PLATFORM_API_KEY is not set: generated once and kept under
 * DATA_DIR (readable by the owner only), so the key printed yesterday still works today.
 */
export async function loadOrCreatePlatformKey(dataDir: string): Promise<{ key: string; file: string; created: boolean }> {
  const file = path.join(dataDir, 'platform-api-key');
  const existing = await readKey(file);
  if (existing !== undefined) return { key: existing, file, created: false };

  await fs.mkdir(dataDir, { recursive: true });
  const key = crypto.randomBytes(32).toString('base64url'); // 43 characters
  try {
    // wx: if two starts race, the second keeps the first one's key instead of overwriting it.
    await fs.writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return { key, file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const raced = await readKey(file);
    if (raced === undefined) throw new Error(`${file} is empty or too short; delete it to get a new key`);
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
  if (key.length < 32) throw new Error(`${file} holds no usable key (under 32 characters); delete it to get a new one`);
  return key;
}
