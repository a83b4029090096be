import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/**
 * A port whose listener never accepts, as behind a firewall that drops packets: a process listens with a backlog of
 * one and is then stopped (SIGSTOP), two connections fill the kernel's accept queue, and from then on the kernel
 * drops every SYN, so a connect waits until the client gives up. connections() counts the two fillers only.
 */
export async function startUnacceptingPeer(): Promise<Peer> {
  const listener = spawn(
    process.execPath,
    [
      '-e',
      `const server = require('node:net').createServer();
       server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         console.log(server.address().port);
         setTimeout(() => process.kill(process.pid, 'SIGSTOP'), 50);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = Number(
    await new Promise<string>((resolve) => listener.stdout!.once('data', (text) => resolve(String(text).trim()))),
  );
  await waitUntilStopped(listener.pid!);
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const filler = net.connect({ port, host: '127.0.0.1' });
    filler.on('error', () => undefined);
    await new Promise((resolve) => filler.once('connect', resolve));
    fillers.push(filler);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    connections: () => fillers.length,
    close: async () => {
      for (const filler of fillers) filler.destroy();
      listener.kill('SIGKILL');
    },
  };
}

/** Until /proc says the process is stopped (state T). */
async function waitUntilStopped(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the listener ${pid} did not stop`);
}
