import fs from 'node:fs/promises';
import path from 'node:path';

/** How a key kept in a file under DATA_DIR is made and checked (the platform key, SECRETS_KEY). */
export interface KeyFileKind {
  /** The file's name under DATA_DIR. */
  name: string;
  generate: () => string;
  /** Why a key read from the file is unusable, or undefined when it is usable. */
  unusable: (key: string) => string | undefined;
}

/**
 * The key kept in `dataDir/kind.name`, generated once (readable by the owner only) so the key used
 * yesterday still works today. A file that holds no usable key stops the caller with the kind's reason.
 */
export async function loadOrCreateKeyFile(dataDir: string, kind: KeyFileKind): Promise<{ key: string; file: string; created: boolean }> {
  const file = path.join(dataDir, kind.name);
  const existing = await readKey(file, kind);
  if (existing !== undefined) return { key: existing, file, created: false };

  await fs.mkdir(dataDir, { recursive: true });
  const key = kind.generate();
  try {
    // wx: if two starts race, the second keeps the first one's key instead of overwriting it.
    await fs.writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return { key, file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const raced = await readKey(file, kind);
    if (raced === undefined) throw new Error(`${file} vanished while it was being written`);
    return { key: raced, file, created: false };
  }
}

async function readKey(file: string, kind: KeyFileKind): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const key = text.trim();
  const reason = kind.unusable(key);
  if (reason !== undefined) throw new Error(`${file} ${reason}`);
  return key;
}
