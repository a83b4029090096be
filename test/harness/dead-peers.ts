import http from 'node:http';
import net from 'node:net';

export interface Peer {
  url: string;
  host: string;
  /** Connections it accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** A TCP server that accepts every connection and never sends a byte: a hung S3 endpoint or Qdrant. */
export async function startSilentServer(): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  return listening(server, sockets, () => accepted);
}

const SIGN_IN_PAGE =
  '<!DOCTYPE html>\n\u0007<html><head><title>Sign in</title></head><body>Please sign in</body></html>';

/** An HTTP server that answers every request the same: by default 200 with an HTML page (a proxy's login). */
export async function startAnsweringServer(
  answer: { status?: number; type?: string; body?: string } = {},
): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    response.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'text/html; charset=utf-8' });
    response.end(answer.body ?? SIGN_IN_PAGE);
  });
  server.on('connection', (socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return listening(server, sockets, () => accepted);
}

async function listening(server: net.Server, sockets: Set<net.Socket>, accepted: () => number): Promise<Peer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    connections: accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
