/**
 * What the fake platform servers (ARM, Kubernetes) share: each request's
 * JSON body read whole, and the request recorded for the test to check.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** One request as a fake server received it. */
export interface RecordedRequest<Body = unknown> {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Body;
}

/**
 * A request listener that reads the JSON body, records the request in
 * `requests`, then calls `handle` with the parsed URL and body.
 */
export function recordingListener<Body>(
  requests: RecordedRequest<Body>[],
  base: string,
  handle: (
    req: IncomingMessage,
    res: ServerResponse,
    u: URL,
    body: Body,
  ) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = (text ? JSON.parse(text) : undefined) as Body;
      const u = new URL(req.url!, base);
      requests.push({
        method: req.method!,
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body,
      });
      handle(req, res, u, body);
    });
  };
}
