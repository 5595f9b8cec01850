import net from 'node:net';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../dev/free-port';
import { startTemporalDevServer } from '../../dev/local-servers';
import type { TemporalDevServer } from '../../dev/local-servers';
import { recordPid } from '../../dev/pid-records';
import { conversationSearchAttributes, conversationStatusKey } from '../../workflows/conversation/search-attributes';
import { testServers } from '../support/test-servers';

describe('Temporal dev server', () => {
  let dbFile: string;
  let port: number;
  let server: TemporalDevServer | undefined;

  const start = async () => {
    const { temporalCli, runDir } = testServers();
    server = await startTemporalDevServer({
      binary: temporalCli,
      headless: true,
      dbFile,
      port,
      onSpawn: (pid) => recordPid(runDir, pid, temporalCli),
    });
    return server;
  };

  const withConnection = async <T>(work: (connection: Connection) => Promise<T>) => {
    const connection = await Connection.connect({ address: server!.address });
    try {
      return await work(connection);
    } finally {
      await connection.close();
    }
  };

  beforeEach(async () => {
    const dir = await fs.mkdtemp(path.join(testServers().runDir, 'temporal-'));
    dbFile = path.join(dir, 'temporal.db');
    port = await freePort();
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('keeps a running workflow and its search attribute values across a restart on the same SQLite file', async () => {
    await start();
    const workflowId = `restart-${Date.now()}`;
    await withConnection((connection) =>
      // No worker polls this queue: the workflow just stays running, which is all a restart has to keep.
      new Client({ connection }).workflow.start('conversation', {
        taskQueue: 'nobody-polls-this',
        workflowId,
        typedSearchAttributes: [{ key: conversationStatusKey, value: 'open' }],
      }),
    );
    await server!.stop();

    await start();
    const description = await withConnection((connection) =>
      new Client({ connection }).workflow.getHandle(workflowId).describe(),
    );
    expect(description.status.name).toBe('RUNNING');
    expect(description.typedSearchAttributes.get(conversationStatusKey)).toBe('open');
  });

  it('keeps its SQLite file in write-ahead-log mode', async () => {
    await start();
    await server!.stop();
    // Bytes 18 and 19 of an SQLite database are its write and read format versions: 2 means WAL, 1 the
    // default rollback journal. The mode is stored in the file, so this is what the next start finds.
    const header = Buffer.alloc(20);
    const file = await fs.open(dbFile, 'r');
    try {
      await file.read(header, 0, 20, 0);
    } finally {
      await file.close();
    }
    expect(header.subarray(0, 15).toString('latin1')).toBe('SQLite format 3');
    expect([header[18], header[19]]).toEqual([2, 2]);
  });

  it('registers the conversation search attributes even on a database file that lost them', async () => {
    // The CLI applies --search-attribute only when it creates the file, so a file made before a key
    // existed must be completed at start; removing the keys stands in for such a file.
    await start();
    const names = conversationSearchAttributes.map((key) => key.name);
    await withConnection((connection) =>
      connection.operatorService.removeSearchAttributes({ namespace: 'default', searchAttributes: names }),
    );
    await server!.stop();

    await start();
    const { customAttributes } = await withConnection((connection) =>
      connection.operatorService.listSearchAttributes({ namespace: 'default' }),
    );
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(names));
  });

  it('fails with the server output when its port is already taken', async () => {
    // Our readiness probe connects to the blocker; dropping those sockets lets the test end cleanly.
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await expect(start()).rejects.toThrow(/Temporal dev server on 127\.0\.0\.1:\d+ (exited|did not answer)[\s\S]*output/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
