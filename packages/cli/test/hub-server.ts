import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A loopback HTTP server answering like the Hugging Face Hub's `resolve` URLs, for the pull tests. */
export interface HubServer {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** Paths requested, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `files` (URL path → bytes) on 127.0.0.1: `GET /<repo>/resolve/<rev>/<file>` and any other
 * listed path, with `content-length` and the Hub's `x-linked-etag` (sha256) and
 * `x-linked-size` headers; 404 for anything else.
 */
export async function startHubServer(files: Readonly<Record<string, Uint8Array>>): Promise<HubServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    requests.push(path);
    const body = files[path];
    if (body === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const sha = createHash("sha256").update(body).digest("hex");
    res.writeHead(200, {
      "content-length": body.length,
      "x-linked-size": body.length,
      "x-linked-etag": `"${sha}"`,
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
