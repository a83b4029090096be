import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChangingProxy {
  /** http://127.0.0.1:<port>, to use in place of the S3 endpoint. */
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * An HTTP proxy in front of an S3 server that lets `onGet` rewrite an object while it is being downloaded: the
 * body is read from the server whole, `onGet` runs (and may overwrite the object upstream, giving it a new ETag),
 * and only then does the client get the body it asked for. A source whose object changes under a reader, every time.
 * Requests pass unchanged (Host included), so the SDK's signatures still match.
 */
export async function startChangingProxy(
  upstream: string,
  onGet: (path: string) => Promise<void>,
): Promise<ChangingProxy> {
  const target = new URL(upstream);
  const server = http.createServer((request, response) => {
    const forwarded = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', async () => {
          if (request.method === 'GET' && answer.statusCode === 200 && !request.url?.includes('list-type')) {
            await onGet(decodeURIComponent((request.url ?? '').split('?')[0]!));
          }
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          response.end(Buffer.concat(chunks));
        });
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
