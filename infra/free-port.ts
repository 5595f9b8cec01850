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
