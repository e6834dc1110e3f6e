import { unzipSync, type UnzipFileInfo } from "fflate";
import { CodecError } from "../errors.js";
import {
  INFLATE_SLACK_BYTES,
  MAX_ELEMENT_BYTES,
  MAX_INFLATE_RATIO,
  MAX_PICKLE_BYTES,
  MAX_WEIGHT_ELEMENTS,
  MAX_ZIP_ENTRIES,
} from "./limits.js";

/**
 * The parts of a `torch.save` zip archive (PyTorch ≥ 1.6 format) that the reader needs.
 *
 * Layout: every entry sits under one folder named after the archive (`model/`, `archive/`):
 *
 * | entry | content |
 * |---|---|
 * | `<prefix>/data.pkl` | the pickled object; tensors refer to storages by key |
 * | `<prefix>/data/<key>` | one storage's raw bytes, little-endian unless `byteorder` says otherwise |
 * | `<prefix>/byteorder` | `little` or `big` (written by PyTorch ≥ 2.1; absent means little) |
 * | `<prefix>/version`, `.data/…` | format bookkeeping, ignored |
 */
export interface TorchArchive {
  /** The folder name shared by the entries, without the slash. */
  readonly prefix: string;
  /** Bytes of `<prefix>/data.pkl`. */
  readonly pickle: Uint8Array;
  /** Storage bytes by key (the `<key>` of `<prefix>/data/<key>`). */
  readonly storages: ReadonlyMap<string, Uint8Array>;
}

const ZIP_LOCAL_MAGIC = 0x504b0304; // "PK\x03\x04"
const PICKLE_PROTO_OPCODE = 0x80;

/**
 * Open a `torch.save` zip archive: find its prefix, extract the pickle and the storages.
 *
 * Before anything is inflated, the sizes the zip declares are held to `maxBytes` and to what an
 * EnCodec checkpoint can need (see `limits.ts`): entry count, `data.pkl` size, storage bytes
 * (`MAX_WEIGHT_ELEMENTS` of the widest dtype), and the inflation ratio of deflated entries.
 *
 * @param maxBytes bound on the summed uncompressed size of the extracted entries
 * @throws CodecError `bad-file` (not a zip, no single `data.pkl`, too many entries, entries
 *   over `maxBytes` or the architecture's bounds, a zip bomb),
 *   `unsupported` (legacy format, big-endian storages, unknown compression), `truncated`, `corrupt`
 */
export function openTorchArchive(bytes: Uint8Array, source: string, maxBytes: number): TorchArchive {
  if (bytes.byteLength < 4) throw new CodecError("truncated", `${source}: ${bytes.byteLength} bytes is too short for a torch checkpoint`);
  const magic = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
  if (magic !== ZIP_LOCAL_MAGIC) {
    if (bytes[0] === PICKLE_PROTO_OPCODE) {
      throw new CodecError(
        "unsupported",
        `${source}: legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with torch.save(..., _use_new_zipfile_serialization=True)`,
      );
    }
    throw new CodecError("bad-file", `${source}: not a torch checkpoint (no zip signature)`);
  }

  const names: UnzipFileInfo[] = [];
  unzipEntries(bytes, source, (info) => {
    names.push(info);
    return false;
  });
  if (names.length > MAX_ZIP_ENTRIES) {
    throw new CodecError("bad-file", `${source}: the zip lists ${names.length} entries, more than a checkpoint's ${MAX_ZIP_ENTRIES}`);
  }
  const pkl = names.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkl.length !== 1) {
    throw new CodecError("bad-file", `${source}: expected exactly one <prefix>/data.pkl entry in the zip, found ${pkl.length}`);
  }
  const prefix = pkl[0]!.name.slice(0, -"/data.pkl".length);
  const dataDir = `${prefix}/data/`;
  const wanted = (name: string): boolean =>
    name === `${prefix}/data.pkl` || name === `${prefix}/byteorder` || (name.startsWith(dataDir) && name.length > dataDir.length && !name.slice(dataDir.length).includes("/"));

  let total = 0;
  let storageBytes = 0;
  let deflatedIn = 0;
  let deflatedOut = 0;
  const sizes = new Map<string, number>();
  for (const e of names) {
    if (!wanted(e.name)) continue;
    if (!Number.isSafeInteger(e.originalSize) || e.originalSize < 0) {
      throw new CodecError("corrupt", `${source}: zip entry ${e.name} has an invalid size`);
    }
    if (e.compression !== 0 && e.compression !== 8) {
      throw new CodecError("unsupported", `${source}: zip entry ${e.name} uses compression method ${e.compression} (only stored and deflate are supported)`);
    }
    if (e.compression === 0 && e.size !== e.originalSize) {
      throw new CodecError("corrupt", `${source}: stored zip entry ${e.name} has compressed size ${e.size} != size ${e.originalSize}`);
    }
    total += e.originalSize;
    if (total > maxBytes) {
      throw new CodecError("bad-file", `${source}: checkpoint entries add up to more than the ${maxBytes}-byte limit`);
    }
    if (e.name === `${prefix}/data.pkl` && e.originalSize > MAX_PICKLE_BYTES) {
      throw new CodecError("bad-file", `${source}: ${e.name} is ${e.originalSize} bytes, more than a state dict's ${MAX_PICKLE_BYTES}`);
    }
    if (e.name.startsWith(dataDir)) storageBytes += e.originalSize;
    if (storageBytes > MAX_WEIGHT_ELEMENTS * MAX_ELEMENT_BYTES) {
      throw new CodecError(
        "bad-file",
        `${source}: tensor storages add up to more than ${MAX_WEIGHT_ELEMENTS * MAX_ELEMENT_BYTES} bytes, beyond any EnCodec model (${MAX_WEIGHT_ELEMENTS} elements)`,
      );
    }
    if (e.compression === 8) {
      deflatedIn += e.size;
      deflatedOut += e.originalSize;
      if (deflatedOut > deflatedIn * MAX_INFLATE_RATIO + INFLATE_SLACK_BYTES) {
        throw new CodecError(
          "bad-file",
          `${source}: deflated entries would inflate from ${deflatedIn} to ${deflatedOut} bytes (more than ${MAX_INFLATE_RATIO}×): a zip bomb, not a checkpoint`,
        );
      }
    }
    sizes.set(e.name, e.originalSize);
  }

  const files = unzipEntries(bytes, source, (info) => wanted(info.name));
  for (const [name, size] of sizes) {
    const got = files[name];
    if (!got || got.byteLength !== size) {
      throw new CodecError("truncated", `${source}: zip entry ${name} should hold ${size} bytes, got ${got?.byteLength ?? 0}`);
    }
  }

  const order = files[`${prefix}/byteorder`];
  if (order !== undefined) {
    const text = new TextDecoder().decode(order).trim();
    if (text !== "little") throw new CodecError("unsupported", `${source}: storages are stored ${JSON.stringify(text)}-endian; only little-endian is supported`);
  }

  const storages = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(files)) {
    if (name.startsWith(dataDir)) storages.set(name.slice(dataDir.length), data);
  }
  return { prefix, pickle: files[`${prefix}/data.pkl`]!, storages };
}

function unzipEntries(bytes: Uint8Array, source: string, filter: (info: UnzipFileInfo) => boolean): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes, { filter });
  } catch (cause) {
    if (cause instanceof CodecError) throw cause;
    throw new CodecError("corrupt", `${source}: unreadable zip archive (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}
