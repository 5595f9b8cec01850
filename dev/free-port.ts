import net from 'node:net';

/**
 * A port nobody listens on right now, found by letting the kernel pick one for port 0. Another process
 * could take it before our server binds it; servers started on it fail fast and say so.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the port the kernel picked'))));
    });
  });
}

/**
 * A free port in [from, to): for servers that cannot take a kernel-picked one. Temporal stores a
 * service's membership port in a PostgreSQL smallint, so it must be below 32768, and the kernel picks
 * from 32768 up. Tries random ports in the range until one binds.
 */
export async function freePortInRange(from: number, to: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen({ port, host }, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port found between ${from} and ${to}`);
}
