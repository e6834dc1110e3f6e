import fc from "fast-check";
import { zipSync } from "fflate";
import { describe, expect, test } from "vitest";
import { CodecError, isCodecError } from "../errors.js";
import { readTorchCheckpoint } from "./torch-checkpoint.js";
import { fixtureBytes } from "../../test/support/fixtures.js";


/** Writes the few pickle (protocol 2) opcodes a torch state dict uses; each method names its opcode. */
class PickleWriter {
  private readonly out: number[] = [0x80, 0x02]; // PROTO 2
  private ascii(s: string): void {
    for (const c of s) this.out.push(c.charCodeAt(0));
  }
  global(module: string, name: string): this {
    this.out.push(0x63); // GLOBAL 'module\nname\n'
    this.ascii(`${module}\n${name}\n`);
    return this;
  }
  mark(): this {
    this.out.push(0x28); // MARK
    return this;
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.out.push(0x58, b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b); // BINUNICODE u32le len, utf-8
    return this;
  }
  int(n: number): this {
    this.out.push(0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff); // BININT i32le
    return this;
  }
  tuple(): this {
    this.out.push(0x74); // TUPLE (since MARK)
    return this;
  }
  emptyTuple(): this {
    this.out.push(0x29); // EMPTY_TUPLE
    return this;
  }
  emptyDict(): this {
    this.out.push(0x7d); // EMPTY_DICT
    return this;
  }
  reduce(): this {
    this.out.push(0x52); // REDUCE: callable(*args)
    return this;
  }
  persid(): this {
    this.out.push(0x51); // BINPERSID: persistent_load(pid)
    return this;
  }
  newFalse(): this {
    this.out.push(0x89); // NEWFALSE
    return this;
  }
  setItem(): this {
    this.out.push(0x73); // SETITEM
    return this;
  }
  setItems(): this {
    this.out.push(0x75); // SETITEMS (since MARK)
    return this;
  }
  ints(values: readonly number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }
  orderedDict(): this {
    return this.global("collections", "OrderedDict").emptyTuple().reduce();
  }
  /** `_rebuild_tensor_v2(('storage', torch.<cls>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())` */
  tensor(t: TensorSpec): this {
    this.global("torch._utils", "_rebuild_tensor_v2").mark();
    this.mark().str("storage").global("torch", t.cls).str(t.key).str("cpu").int(t.numel).tuple().persid();
    this.int(t.offset).ints(t.size).ints(t.stride).newFalse().orderedDict();
    return this.tuple().reduce();
  }
  /** An OrderedDict of name → tensor. */
  stateDict(entries: ReadonlyArray<readonly [string, TensorSpec]>): this {
    this.orderedDict().mark();
    for (const [name, t] of entries) this.str(name).tensor(t);
    return this.setItems();
  }
  finish(): Uint8Array {
    return Uint8Array.from([...this.out, 0x2e]); // STOP
  }
}

interface TensorSpec {
  cls: string;
  key: string;
  numel: number;
  offset: number;
  size: number[];
  stride: number[];
}

/** A `torch.save`-style zip: `archive/data.pkl`, `archive/data/<key>`, `archive/version`. */
function checkpointZip(pickle: Uint8Array, storages: Record<string, Uint8Array>, extra: Record<string, Uint8Array> = {}): Uint8Array {
  const files: Record<string, Uint8Array> = { "archive/data.pkl": pickle, "archive/version": new TextEncoder().encode("3\n"), ...extra };
  for (const [key, bytes] of Object.entries(storages)) files[`archive/data/${key}`] = bytes;
  return zipSync(files, { level: 0 });
}

function f32le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setFloat32(i * 4, x, true));
  return out;
}

const f32 = (key: string, numel: number, size: number[], stride: number[], offset = 0): TensorSpec => ({ cls: "FloatStorage", key, numel, offset, size, stride });

function expectCodecError(fn: () => unknown, code: CodecError["code"], pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(isCodecError(caught), String(caught)).toBe(true);
  expect((caught as CodecError).code).toBe(code);
  expect((caught as CodecError).message).toMatch(pattern);
}

describe("readTorchCheckpoint", () => {
  test("reads contiguous, offset and non-contiguous (transposed) views of one storage", () => {
    const storage = f32le([0, 1, 2, 3, 4, 5, 6]);
    const pickle = new PickleWriter()
      .stateDict([
        ["a", f32("0", 7, [2, 3], [3, 1])], // rows [0 1 2] [3 4 5]
        ["b", f32("0", 7, [3, 2], [1, 3])], // its transpose
        ["c", f32("0", 7, [2], [1], 5)], // [5 6]
        ["d", f32("0", 7, [2, 2], [0, 2], 1)], // broadcast rows: [1 3] [1 3]
        ["e", f32("0", 7, [0, 4], [4, 1])], // empty
      ])
      .finish();
    const map = readTorchCheckpoint(checkpointZip(pickle, { "0": storage }), "views.th");
    expect([...map.keys()]).toEqual(["a", "b", "c", "d", "e"]);
    expect(map.get("a")).toEqual({ dims: [2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5), sourceDtype: "F32" });
    expect(map.get("b")).toEqual({ dims: [3, 2], data: Float32Array.of(0, 3, 1, 4, 2, 5), sourceDtype: "F32" });
    expect(map.get("c")?.data).toEqual(Float32Array.of(5, 6));
    expect(map.get("d")?.data).toEqual(Float32Array.of(1, 3, 1, 3));
    expect(map.get("e")?.data.length).toBe(0);
    // Each tensor owns its values.
    map.get("a")!.data[0] = 42;
    expect(map.get("b")!.data[0]).toBe(0);
  });

  test.each([
    // storage class, dtype, bytes of the two values 1.5 and -2 (or 7 and -3 for integers), expected
    ["HalfStorage", "F16", [0x00, 0x3e, 0x00, 0xc0], [1.5, -2]],
    ["BFloat16Storage", "BF16", [0xc0, 0x3f, 0x00, 0xc0], [1.5, -2]],
    ["DoubleStorage", "F64", [0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0], [1.5, -2]],
    ["LongStorage", "I64", [7, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [7, -3]],
    ["IntStorage", "I32", [7, 0, 0, 0, 0xfd, 0xff, 0xff, 0xff], [7, -3]],
  ] as const)("widens %s (%s) little-endian storages", (cls, dtype, bytes, expected) => {
    const pickle = new PickleWriter().stateDict([["x", { cls, key: "k", numel: 2, offset: 0, size: [2], stride: [1] }]]).finish();
    const t = readTorchCheckpoint(checkpointZip(pickle, { k: Uint8Array.from(bytes) })).get("x");
    expect(t?.sourceDtype).toBe(dtype);
    expect([...t!.data]).toEqual(expected);
  });

  test("unwraps {model: state_dict, epoch} and {best_state: {model: state_dict}}", () => {
    const storages = { "0": f32le([1, 2]) };
    const sd = [["w", f32("0", 2, [2], [1])]] as const;
    const wrapped = new PickleWriter().emptyDict().str("epoch").int(3).setItem().str("model").stateDict(sd).setItem().finish();
    expect(readTorchCheckpoint(checkpointZip(wrapped, storages)).get("w")?.data).toEqual(Float32Array.of(1, 2));
    const nested = new PickleWriter().emptyDict().str("best_state").emptyDict().str("model").stateDict(sd).setItem().setItem().finish();
    expect([...readTorchCheckpoint(checkpointZip(nested, storages)).keys()]).toEqual(["w"]);
  });

  test("refuses a class outside the tensor subset, naming the file and the class", () => {
    const evil = new PickleWriter().global("os", "system").str("echo hi").tuple().reduce().finish();
    expectCodecError(() => readTorchCheckpoint(checkpointZip(evil, {}), "evil.th"), "unsupported", /evil\.th.*os\.system/);
    const builtin = new PickleWriter().global("builtins", "eval").finish();
    expectCodecError(() => readTorchCheckpoint(checkpointZip(builtin, {}), "b.th"), "unsupported", /builtins\.eval/);
  });

  test.each([
    ["entry shorter than numel", { "0": f32le([1]) }, f32("0", 2, [2], [1]), /numel 2\) needs 8 bytes, its entry has 4/],
    ["view past the storage", { "0": f32le([1, 2]) }, f32("0", 2, [2], [1], 1), /reaches element 2, storage has 2/],
    ["stride past the storage", { "0": f32le([1, 2, 3, 4]) }, f32("0", 4, [2, 2], [3, 1]), /reaches element 4/],
    ["missing storage entry", {}, f32("0", 2, [2], [1]), /no data\/0 entry/],
    ["stride rank differs from size", { "0": f32le([1, 2]) }, f32("0", 2, [2], [1, 1]), /invalid stride/],
  ])("bounds every size: %s → corrupt", (_what, storages, spec, pattern) => {
    const pickle = new PickleWriter().stateDict([["w", spec]]).finish();
    expectCodecError(() => readTorchCheckpoint(checkpointZip(pickle, storages), "b.th"), "corrupt", pattern);
  });

  test("refuses big-endian storages, legacy files, non-zips and a missing state dict", () => {
    const pickle = new PickleWriter().stateDict([["w", f32("0", 1, [1], [1])]]).finish();
    const big = checkpointZip(pickle, { "0": f32le([1]) }, { "archive/byteorder": new TextEncoder().encode("big") });
    expectCodecError(() => readTorchCheckpoint(big, "big.th"), "unsupported", /big.*little-endian/);
    expectCodecError(() => readTorchCheckpoint(Uint8Array.of(0x80, 0x02, 0x8a, 0x0a), "old.th"), "unsupported", /old\.th: legacy/);
    expectCodecError(() => readTorchCheckpoint(new TextEncoder().encode("hello world"), "x.th"), "bad-file", /x\.th: not a torch checkpoint/);
    expectCodecError(() => readTorchCheckpoint(zipSync({ "a/b.txt": Uint8Array.of(1) }), "z.th"), "bad-file", /data\.pkl/);
    const list = new PickleWriter().mark().int(1).tuple().finish();
    expectCodecError(() => readTorchCheckpoint(checkpointZip(list, {}), "l.th"), "unsupported", /no state dict/);
    expectCodecError(() => readTorchCheckpoint(checkpointZip(Uint8Array.of(0x80, 0x02, 0xff), {}), "p.th"), "corrupt", /p\.th: data\.pkl: malformed pickle/);
  });

  test("the maxBytes bound is checked before extraction", () => {
    expectCodecError(() => readTorchCheckpoint(fixtureBytes("tiny48/model.th"), "m.th", { maxBytes: 1000 }), "bad-file", /1000-byte limit/);
  });

  test("every truncation of a real checkpoint is a CodecError, never a crash", () => {
    const bytes = fixtureBytes("tiny48/lm.th");
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.byteLength - 1 }), (cut) => {
        expect(() => readTorchCheckpoint(bytes.subarray(0, cut), "cut.th")).toThrow(CodecError);
      }),
      { numRuns: 40, seed: 7 },
    );
  });

  test("a corrupted byte anywhere gives either a readable map or a CodecError", () => {
    const bytes = fixtureBytes("tiny48/lm.th");
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.byteLength - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const copy = bytes.slice();
        copy[at]! ^= xor;
        try {
          expect(readTorchCheckpoint(copy, "flip.th").size).toBeGreaterThan(0);
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 60, seed: 11 },
    );
  });
});
