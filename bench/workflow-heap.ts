/**
 * `npm run bench:heap [-- --conversations=N] [-- --snapshot=FILE]`: what one cached conversation costs the
 * worker's workflow thread, measured rather than guessed from RSS (README, "Worker memory").
 *
 * One process: its own Temporal dev server and FerretDB in a temporary folder, the real worker and API
 * in process (test/support/stack.ts). Opens 20 conversations (one customer message each, the workflow
 * thread and its bundle warm), reads the workflow thread's heap through the inspector (Node's
 * `NodeWorker` domain: two full collections, then `Runtime.getHeapUsage`), opens N more and reads it
 * again; the difference over N is the live heap of one cached conversation. The worker caches every one
 * (N stays under its 2,500). With `--snapshot=FILE` it also writes the thread's heap snapshot before
 * (`FILE.0`) and after (`FILE`), to open in Chrome DevTools' Memory tab ("Comparison").
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { startFerretDB, startTemporalDevServer } from '../dev/local-servers';
import { ensureTools } from '../dev/tools';
import { createAccount } from '../test/support/scenario';
import { eventually, startStack } from '../test/support/stack';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

/** The inspector's view of this process's worker threads, and a request/answer channel into one of them. */
class ThreadInspector {
  private readonly session = new Session();
  private readonly threads: { sessionId: string; url: string }[] = [];
  private readonly answers = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();
  private readonly chunks: string[] = [];
  private nextId = 1;

  constructor() {
    this.session.connect();
    this.session.on('NodeWorker.attachedToWorker', (m) => {
      const { sessionId, workerInfo } = m.params as { sessionId: string; workerInfo: { url: string } };
      this.threads.push({ sessionId, url: workerInfo.url });
    });
    this.session.on('NodeWorker.receivedMessageFromWorker', (m) => {
      const message = JSON.parse((m.params as { message: string }).message) as { id?: number; method?: string; params?: { chunk: string }; result?: unknown; error?: unknown };
      if (message.method === 'HeapProfiler.addHeapSnapshotChunk') this.chunks.push(message.params!.chunk);
      if (message.id !== undefined) this.answers.get(message.id)?.(message);
    });
  }

  private post(method: string, params: object): Promise<unknown> {
    return new Promise((resolve, reject) => this.session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  }

  /** The SDK's workflow thread, once it exists (it starts with the first workflow task). */
  async workflowThread(): Promise<string> {
    await this.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    for (let i = 0; i < 100; i++) {
      const found = this.threads.find((t) => t.url.includes('workflow-worker-thread'));
      if (found) return found.sessionId;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no workflow thread among ${this.threads.map((t) => t.url).join(', ')}`);
  }

  private ask(sessionId: string, method: string, params: object = {}): Promise<{ result?: unknown; error?: unknown }> {
    const id = this.nextId++;
    const answered = new Promise<{ result?: unknown; error?: unknown }>((resolve) => this.answers.set(id, resolve));
    void this.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) });
    return answered.finally(() => this.answers.delete(id));
  }

  /** Bytes in use on the thread's heap after two full collections. */
  async liveHeap(sessionId: string): Promise<number> {
    await this.ask(sessionId, 'HeapProfiler.enable');
    await this.ask(sessionId, 'HeapProfiler.collectGarbage');
    await this.ask(sessionId, 'HeapProfiler.collectGarbage');
    const { result } = await this.ask(sessionId, 'Runtime.getHeapUsage');
    return (result as { usedSize: number }).usedSize;
  }

  async snapshot(sessionId: string, file: string): Promise<void> {
    this.chunks.length = 0;
    await this.ask(sessionId, 'HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    fs.writeFileSync(file, this.chunks.join(''));
    this.chunks.length = 0;
  }
}

async function main(): Promise<void> {
  const n = Number(arg('conversations') ?? 300);
  if (!Number.isInteger(n) || n < 1 || n > 2_000) throw new Error('--conversations: an integer from 1 to 2000 (the worker caches 2,500)');
  const snapshotFile = arg('snapshot');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convoflow-heap-'));
  const tools = await ensureTools({ log: (line) => process.stderr.write(`[tools] ${line}\n`) });
  // Whatever started is stopped, also when a later step fails.
  const stops: (() => Promise<void>)[] = [];
  try {
    const temporal = await startTemporalDevServer({ binary: tools.temporal, headless: true, dbFile: path.join(dir, 'temporal.db'), logFile: path.join(dir, 'temporal.log') });
    stops.unshift(() => temporal.stop());
    const ferret = await startFerretDB({ binary: tools.ferretdb, dataDir: path.join(dir, 'ferretdb'), logFile: path.join(dir, 'ferretdb.log') });
    stops.unshift(() => ferret.stop());
    const stack = await startStack({ temporalAddress: temporal.address, mongoUri: ferret.uri }, 'heap');
    stops.unshift(() => stack.stop());
    const inspector = new ThreadInspector();
    const account = await createAccount(stack);
    let opened = 0;
    const open = async (count: number): Promise<void> => {
      const first = opened;
      opened += count;
      for (let i = first; i < opened; i += 20) {
        await Promise.all(
          Array.from({ length: Math.min(20, opened - i) }, async (_, k) => {
            const body = { channel: 'wa-main', customer: `1555${String(i + k).padStart(7, '0')}`, messageId: `wamid.heap${i + k}`, text: 'hello there' };
            const res = await stack.http.post(`/v1/accounts/${account.id}/messages`, body, account.keys.service);
            if (res.status !== 202) throw new Error(`message not accepted: ${res.status} ${JSON.stringify(res.body)}`);
          }),
        );
      }
      // Every conversation's view written: its workflow ran and is cached.
      await eventually(async () => ((await stack.db.collection('conversations').countDocuments({ accountId: account.id })) >= opened ? true : undefined), {
        timeoutMs: 600_000,
        intervalMs: 250,
      });
    };
    await open(20);
    const thread = await inspector.workflowThread();
    const before = await inspector.liveHeap(thread);
    if (snapshotFile) await inspector.snapshot(thread, `${snapshotFile}.0`);
    await open(n);
    const after = await inspector.liveHeap(thread);
    if (snapshotFile) await inspector.snapshot(thread, snapshotFile);
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    console.log(`workflow thread's live heap: ${mib(before)} MiB with 20 conversations cached, ${mib(after)} MiB with ${20 + n}`);
    console.log(`per cached conversation: ${((after - before) / n / 1024).toFixed(1)} KiB`);
    if (snapshotFile) console.log(`heap snapshots: ${snapshotFile}.0 (before), ${snapshotFile} (after)`);
  } finally {
    for (const stop of stops) await stop().catch((error: unknown) => console.error(error));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
