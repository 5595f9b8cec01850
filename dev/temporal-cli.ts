import { spawn } from 'node:child_process';
import { ConfigError, loadConfig } from '../infra/config';
import type { Config } from '../infra/config';
import { ensureTool } from './tools';

/**
 * `npm run temporal -- <args>`: the pinned Temporal CLI (from the tool cache, installed if missing)
 * against the Temporal this configuration uses, so operators need no `temporal` on PATH:
 *
 *   npm run -s temporal -- workflow list --query "ConversationStatus='assigned'"
 *
 * The CLI reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and TEMPORAL_TLS itself, the same
 * names infra/config.ts reads; what is missing here is the address of the embedded dev server, which
 * `npm start` runs on 127.0.0.1:TEMPORAL_DEV_PORT when TEMPORAL_ADDRESS is not set. Flags on the command
 * line still win over the environment.
 */
export function temporalCliEnv(config: Config, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...env,
    TEMPORAL_ADDRESS: config.temporal.address ?? `127.0.0.1:${config.embedded.temporalPort}`,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    TEMPORAL_TLS: String(config.temporal.tls),
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const binary = await ensureTool('temporal', { log: (line) => console.error(`[tools] ${line}`) });
  const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', env: temporalCliEnv(config) });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : error);
  process.exit(1);
});
