import { ensureTools, toolsDir } from './tools';

/** `npm run tools`: installs the pinned tools if missing and prints where they are. */
async function main(): Promise<void> {
  const started = Date.now();
  const paths = await ensureTools({ log: (line) => console.error(line) });
  console.log(`tool cache: ${toolsDir()}`);
  for (const [name, file] of Object.entries(paths)) console.log(`${name}: ${file}`);
  console.error(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
