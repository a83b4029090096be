import net from 'node:net';

export interface CuttingProxy {
  /** http://127.0.0.1:<port>, to use in place of the upstream endpoint. */
  endpoint: string;
  /** Whether the cut has happened. */
  cut(): boolean;
  stop(): Promise<void>;
}

/**
 * A TCP proxy that forwards to `upstream` until `cutAfterBytes` request bytes have gone through, then drops every
 * connection and refuses all later ones: a network that fails in the middle of an upload and stays down, so the
 * SDK's retries fail too.
 */
export async function startCuttingProxy(upstream: string, cutAfterBytes: number): Promise<CuttingProxy> {
  const target = new URL(upstream);
  const sockets = new Set<net.Socket>();
  let forwarded = 0;
  let cut = false;
  const dropAll = (): void => {
    cut = true;
    for (const socket of sockets) socket.destroy();
  };
  const server = net.createServer((client) => {
    if (cut) return void client.destroy();
    const toUpstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, toUpstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // One side failing ends its pair only.
      socket.on('error', () => {
        client.destroy();
        toUpstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      forwarded += chunk.length;
      if (forwarded > cutAfterBytes) return dropAll();
      toUpstream.write(chunk);
    });
    toUpstream.pipe(client);
    client.on('end', () => toUpstream.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut: () => cut,
    stop: async () => {
      dropAll();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A TCP proxy that forwards both ways, until a request matching `request` (e.g. /postgres\.dump/) goes up a
 * connection: of its answer only the first `afterBytes` come back (headers and the start of the body), then nothing
 * more, the connection kept open. An S3 endpoint whose download stops mid-body and never ends.
 */
export async function startStallingProxy(upstream: string, request: RegExp, afterBytes: number): Promise<CuttingProxy> {
  const target = new URL(upstream);
  const sockets = new Set<net.Socket>();
  let stalled = false;
  const server = net.createServer((client) => {
    const toUpstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, toUpstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        toUpstream.destroy();
      });
    }
    let allowance = Number.POSITIVE_INFINITY;
    client.on('data', (chunk: Buffer) => {
      if (request.test(chunk.toString('latin1'))) allowance = afterBytes;
      toUpstream.write(chunk);
    });
    toUpstream.on('data', (chunk: Buffer) => {
      const passed = chunk.subarray(0, Math.max(Math.min(allowance, chunk.length), 0));
      if (passed.length < chunk.length) stalled = true;
      allowance -= passed.length;
      if (passed.length > 0) client.write(passed);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut: () => stalled,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
