/**
 * A real HTTP server on 127.0.0.1 for download tests, closed by the test
 * that opened it, with every request it saw kept for assertions.
 */
import http from "node:http";
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** Answers the `index`-th request (0-based) the server receives. */
export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  index: number,
) => void;

/** A running test server. */
export interface TestServer {
  /** Base URL such as `http://127.0.0.1:54321`. */
  url: string;
  /** Headers of every request received, in order. */
  requests: IncomingHttpHeaders[];
}

/**
 * Starts a server on a free port, runs `body` against it and closes it,
 * dropping any connection still open, whether `body` passes or throws.
 */
export async function withServer(
  handler: Handler,
  body: (server: TestServer) => Promise<void>,
): Promise<void> {
  const requests: IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    handler(req, res, requests.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  try {
    await body({ url: `http://127.0.0.1:${port}`, requests });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      server.close((err) => (err ? reject(err) : resolve())),
    );
  }
}

/** Writes part of a body, then cuts the connection once it is sent. */
export function dropAfter(res: ServerResponse, chunk: Buffer): void {
  res.write(chunk, () => res.socket?.destroy());
}

/** Bytes 0..n-1 of a pattern that makes misplaced bytes easy to spot. */
export function payload(n: number): Buffer {
  const buf = Buffer.alloc(n);
  for (let i = 0; i < n; i++) buf[i] = (i * 31 + 7) % 251;
  return buf;
}
