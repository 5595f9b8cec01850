import fs from 'node:fs';
import { killRecorded } from '../../dev/pid-records';
import { globalKey } from './global-setup';
import type { GlobalServers } from './global-setup';

/** Stops what global setup started, and anything a test left running, then deletes the run's folder. */
export default async function globalTeardown(): Promise<void> {
  const servers = (globalThis as Record<string, unknown>)[globalKey] as GlobalServers | undefined;
  if (!servers) return;
  await Promise.allSettled([servers.temporal.stop(), servers.ferretdb.stop()]);
  killRecorded(servers.runDir); // e.g. a test's own FerretDB it never stopped
  fs.rmSync(servers.runDir, { recursive: true, force: true });
}
