import { createHash } from "node:crypto";
import { open, realpath, stat } from "node:fs/promises";
import { CodecError } from "../errors.js";
import { GRAPH_BUILDER_VERSION } from "../onnx/encodec-graphs.js";

/** Most bytes of a weights file's head that go into the key (a safetensors header is read whole up to this). */
const MAX_HEAD_BYTES = 16 * 1024 * 1024;
/** Bytes of the head hashed for a file that is not safetensors (a torch zip). */
const OTHER_HEAD_BYTES = 64 * 1024;

/**
 * Graph cache identity of a model on disk, without reading its weights: SHA-256 (hex) over the
 * graph builder version, the weights file's real path, device, inode, size, modification and
 * change times (nanoseconds), its head (a safetensors file's whole JSON header — tensor names,
 * dtypes, shapes, offsets — or the first 64 KiB of another format), and the `config.json` bytes
 * (or `extra`, e.g. the hints a derived config depends on). Rewriting, replacing or touching the
 * weights changes the key (a graph is then rebuilt); an untouched file keeps it, so loading from
 * the cache reads only the header instead of hashing every weight (76 MB for encodec_24khz).
 *
 * @throws CodecError `bad-file` naming the file when it cannot be read
 */
export async function modelFileKey(weightsPath: string, configBytes: Uint8Array | null, extra = ""): Promise<string> {
  const hash = createHash("sha256");
  try {
    const real = await realpath(weightsPath);
    const info = await stat(real, { bigint: true });
    hash.update(`encstream-model-files:1\ngraphs:${GRAPH_BUILDER_VERSION}\n${real}\n${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}\n`);
    hash.update(await readHead(real, Number(info.size)));
  } catch (cause) {
    if (cause instanceof CodecError) throw cause;
    throw new CodecError("bad-file", `${weightsPath}: cannot be read (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  hash.update(configBytes === null ? `\nno config.json\n${extra}` : "\nconfig.json\n");
  if (configBytes !== null) hash.update(configBytes);
  return hash.digest("hex");
}

/** The safetensors header (8-byte little-endian length + JSON), or the first 64 KiB of another file. */
async function readHead(file: string, size: number): Promise<Uint8Array> {
  const handle = await open(file, "r");
  try {
    const first = new Uint8Array(Math.min(size, 8));
    await handle.read(first, 0, first.length, 0);
    let length = OTHER_HEAD_BYTES;
    if (first.length === 8) {
      const declared = new DataView(first.buffer).getBigUint64(0, true);
      if (declared > 0n && declared <= BigInt(MAX_HEAD_BYTES) && 8n + declared <= BigInt(size)) length = 8 + Number(declared);
    }
    const head = new Uint8Array(Math.min(size, length));
    await handle.read(head, 0, head.length, 0);
    return head;
  } finally {
    await handle.close();
  }
}
