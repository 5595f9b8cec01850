import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Stack } from '../support/stack';
import { eventually, useStack } from '../support/stack';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import { testServers } from '../support/test-servers';

const run = promisify(execFile);
const projectRoot = path.resolve(__dirname, '../..');

/**
 * Issue 11 item 12: README's `temporal workflow list --query ...` works as written, through the pinned
 * CLI (`npm run temporal`), against the configured Temporal: TEMPORAL_ADDRESS when set, otherwise the
 * embedded dev server on TEMPORAL_DEV_PORT.
 */
describe('npm run temporal', () => {
  const env = useStack();
  let stack: Stack;
  let conversationId: string;

  beforeAll(async () => {
    ({ stack } = env);
    const account = await createAccount(stack);
    ({ conversationId } = await customerWrites(stack, account, { customer: newCustomer() }));
    expect((await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'mine' }, account.keys.agent)).status).toBe(200);
  });

  /** The README's line, through a shell as a user types it. */
  const readmeCommand = `npm run -s temporal -- workflow list --query "ConversationStatus='assigned'"`;

  async function listed(variables: Record<string, string>): Promise<string> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...variables };
    if (!('TEMPORAL_ADDRESS' in variables)) delete childEnv.TEMPORAL_ADDRESS;
    return eventually(async () => {
      const { stdout } = await run('sh', ['-c', readmeCommand], { cwd: projectRoot, env: childEnv, timeout: 60_000 });
      return stdout.includes(conversationId) ? stdout : undefined;
    }, { timeoutMs: 45_000, intervalMs: 500 });
  }

  test('without TEMPORAL_ADDRESS it asks the embedded dev server on TEMPORAL_DEV_PORT', async () => {
    const port = testServers().temporalAddress.split(':').at(-1)!;
    expect(await listed({ TEMPORAL_DEV_PORT: port })).toContain('conversationWorkflow');
  }, 90_000);

  test('with TEMPORAL_ADDRESS it asks that server', async () => {
    expect(await listed({ TEMPORAL_ADDRESS: testServers().temporalAddress, TEMPORAL_DEV_PORT: '1' })).toContain(conversationId);
  }, 90_000);
});
