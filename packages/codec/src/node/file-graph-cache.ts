import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { GraphCache } from "../runtime/graph-cache.js";

const KEY = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * A {@link GraphCache} in a directory: one `<key>.onnx` file per graph, written atomically
 * (temporary file, then rename), so that concurrent processes never read a partial graph.
 * Read and write failures are swallowed (the graph is then built instead).
 */
export class FileGraphCache implements GraphCache {
  /** @param dir directory of the graph files; created on first write */
  constructor(readonly dir: string) {}

  /** Path of the file that holds `key`. @throws RangeError for a key with characters outside `[A-Za-z0-9._-]` */
  fileFor(key: string): string {
    if (!KEY.test(key)) throw new RangeError(`key must match ${KEY}, got ${JSON.stringify(key)}`);
    return path.join(this.dir, `${key}.onnx`);
  }

  async read(key: string): Promise<Uint8Array | undefined> {
    try {
      const buf = await readFile(this.fileFor(key));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch {
      return undefined;
    }
  }

  /** The file of `key` when it exists and is not empty (sessions are then opened from the path); undefined otherwise. */
  async pathOf(key: string): Promise<string | undefined> {
    try {
      const file = this.fileFor(key);
      return (await stat(file)).size > 0 ? file : undefined;
    } catch {
      return undefined;
    }
  }

  async write(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.fileFor(key);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } catch {
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }
}
