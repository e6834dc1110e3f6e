import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP server on 127.0.0.1 that answers like the Hugging Face Hub, for the download tests
 * (not part of the package API):
 * - `GET /<repo>/resolve/<rev>/<file>`: files flagged `lfs` get a `302` to `/cdn/<file>` carrying
 *   `x-linked-size` and `x-linked-etag: "<sha256>"`, others come back directly with a git-style etag;
 * - `GET /cdn/<file>`: the bytes, honouring `Range: bytes=N-` with `206` + `Content-Range`.
 * Faults can be switched on per test.
 */
export interface HubTestServer {
  readonly baseUrl: string;
  /** Every request seen: path and Range header. */
  readonly requests: Array<{ path: string; range: string | undefined }>;
  /** Faults to inject; change between requests. */
  readonly faults: {
    /** Destroy the socket after this many body bytes, for the next `count` CDN responses. */
    drop?: { afterBytes: number; count: number };
    /** Announce this sha256 in `x-linked-etag` instead of the real one. */
    wrongSha?: string;
    /** Announce this size in `x-linked-size` instead of the real one. */
    wrongSize?: number;
    /** Answer Range requests with the whole file and `200`. */
    ignoreRange?: boolean;
  };
  close(): Promise<void>;
}

/** Start the server with `files` (name → bytes; `lfs` names are served through the redirect). */
export async function startHubTestServer(repo: string, files: Record<string, Uint8Array>, lfs: readonly string[]): Promise<HubTestServer> {
  const requests: HubTestServer["requests"] = [];
  const faults: HubTestServer["faults"] = {};
  const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

  const serveBytes = (req: IncomingMessage, res: ServerResponse, bytes: Uint8Array, etag: string, mayDrop: boolean): void => {
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (m && !faults.ignoreRange) {
      start = Number(m[1]);
      if (start >= bytes.length) {
        res.writeHead(416, { "content-range": `bytes */${bytes.length}` }).end();
        return;
      }
      res.writeHead(206, { "content-length": bytes.length - start, "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}`, etag });
    } else {
      res.writeHead(200, { "content-length": bytes.length, etag });
    }
    const body = bytes.subarray(start);
    if (mayDrop && faults.drop && faults.drop.count > 0) {
      faults.drop.count--;
      res.write(body.subarray(0, faults.drop.afterBytes), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    requests.push({ path: url.pathname, range: req.headers.range });
    const resolved = new RegExp(`^/${repo}/resolve/[^/]+/(.+)$`).exec(url.pathname);
    const cdn = /^\/cdn\/(.+)$/.exec(url.pathname);
    const name = decodeURIComponent(resolved?.[1] ?? cdn?.[1] ?? "");
    const bytes = files[name];
    const isLfs = lfs.includes(name);
    if (!bytes || (cdn && !isLfs)) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Entry not found");
    } else if (cdn) {
      // A CDN etag that is not a sha256 (md5-like, 32 hex): must not be taken for one.
      serveBytes(req, res, bytes, `"${createHash("md5").update(bytes).digest("hex")}"`, true);
    } else if (isLfs) {
      res
        .writeHead(302, {
          location: `/cdn/${encodeURIComponent(name)}?signature=abc`,
          "x-linked-size": String(faults.wrongSize ?? bytes.length),
          "x-linked-etag": `"${faults.wrongSha ?? sha(bytes)}"`,
        })
        .end();
    } else {
      // Small files: a git blob id (40 hex), which is not a sha256 either.
      serveBytes(req, res, bytes, `"${createHash("sha1").update(bytes).digest("hex")}"`, false);
    }
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
