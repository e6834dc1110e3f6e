import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { inlineExternalData, splitExternalData } from "../internal/external-data.js";
import type { GraphCache } from "../runtime/graph-cache.js";

const KEY = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * A {@link GraphCache} in a directory: per graph, `<key>.onnx` (the graph, with its large
 * initializers stored as ONNX external data) and `<key>.weights` (those initializers, each on
 * its own pages). ONNX Runtime maps the weights file instead of copying the weights out of the
 * protobuf, so a session opened from {@link FileGraphCache.pathOf} costs a fraction of the CPU
 * and of the resident memory of one opened from the bytes. Files are written atomically
 * (temporary file, then rename; the weights before the graph), so that concurrent processes
 * never read a partial graph. An entry without its weights file (an older cache's single-file
 * graph, or an interrupted write) counts as missing: it is built and written again. Read and
 * write failures are swallowed (the graph is then built instead).
 */
export class FileGraphCache implements GraphCache {
  /** @param dir directory of the graph files; created on first write */
  constructor(readonly dir: string) {}

  /** Path of the file that holds `key`'s graph. @throws RangeError for a key with characters outside `[A-Za-z0-9._-]` */
  fileFor(key: string): string {
    if (!KEY.test(key)) throw new RangeError(`key must match ${KEY}, got ${JSON.stringify(key)}`);
    return path.join(this.dir, `${key}.onnx`);
  }

  /** Path of the file that holds `key`'s external weights (beside its graph). @throws RangeError as {@link FileGraphCache.fileFor} */
  weightsFileFor(key: string): string {
    return path.join(this.dir, weightsName(key));
  }

  /** The graph of `key` as one self-contained model (its external weights read back in), or undefined. */
  async read(key: string): Promise<Uint8Array | undefined> {
    try {
      const [buf, weights] = await Promise.all([readFile(this.fileFor(key)), readFile(this.weightsFileFor(key))]);
      const model = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      if (weights.byteLength === 0) return model;
      const name = weightsName(key);
      return inlineExternalData(model, (location, offset, length) => {
        if (location !== name || offset + length > weights.byteLength) throw new Error(`${location}: no ${length} bytes at ${offset}`);
        return new Uint8Array(weights.buffer, weights.byteOffset + offset, length);
      });
    } catch {
      return undefined;
    }
  }

  /**
   * The graph file of `key` when it and its weights file exist and the graph is not empty
   * (sessions are then opened from the path, which finds the weights beside it); undefined otherwise.
   */
  async pathOf(key: string): Promise<string | undefined> {
    try {
      const file = this.fileFor(key);
      const [graph] = await Promise.all([stat(file), stat(this.weightsFileFor(key))]);
      return graph.size > 0 ? file : undefined;
    } catch {
      return undefined;
    }
  }

  /** Store a graph: its large initializers go to the weights file (bytes that are not an ONNX model are stored as they are, with an empty weights file). */
  async write(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.fileFor(key);
    const weightsFile = this.weightsFileFor(key);
    const suffix = `.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    let model = bytes;
    let weights: Uint8Array = new Uint8Array(0);
    try {
      ({ model, data: weights } = splitExternalData(bytes, weightsName(key)));
    } catch {
      // not a model this reader understands: kept whole
    }
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(weightsFile + suffix, weights);
      await rename(weightsFile + suffix, weightsFile);
      await writeFile(file + suffix, model);
      await rename(file + suffix, file);
    } catch {
      await Promise.all([rm(weightsFile + suffix, { force: true }), rm(file + suffix, { force: true })]).catch(() => undefined);
    }
  }
}

function weightsName(key: string): string {
  if (!KEY.test(key)) throw new RangeError(`key must match ${KEY}, got ${JSON.stringify(key)}`);
  return `${key}.weights`;
}
