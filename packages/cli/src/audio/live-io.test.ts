import { PassThrough, Readable } from "node:stream";
import { describe, expect, test } from "vitest";
import { isCliError } from "../errors.js";
import { parseRawFormat } from "./raw-format.js";
import { StreamInput } from "./stream-input.js";
import { StreamOutput, buildWavHeader } from "./stream-output.js";
import { decodeInterleaved, parseStreamWavHeader } from "./stream-wav-header.js";

/* The pieces of `--input -` and `--output -`: raw formats, streamed WAV headers, stdin and stdout. */

describe("parseRawFormat", () => {
  test.each([
    ["s16le:48000:2", { sampleFormat: "s16", sampleRateHz: 48_000, channels: 2 }],
    ["f32le:24000:1", { sampleFormat: "f32", sampleRateHz: 24_000, channels: 1 }],
  ])("%s", (text, expected) => expect(parseRawFormat(text)).toEqual(expected));

  test.each(["s16:48000:2", "s16le:48000", "s16le:999:2", "s16le:48000:0", "s16le:48000:65", "f32le:4.8e4:1", "u8:8000:1"])("%s is refused", (text) => {
    expect(() => parseRawFormat(text)).toThrow(RangeError);
  });
});

/** A 16-bit mono WAV header declaring `dataBytes`, with an odd-sized LIST chunk before the data. */
function wavHeader(dataBytes: number): Uint8Array {
  return new Uint8Array([
    0x52, 0x49, 0x46, 0x46, 0xff, 0xff, 0xff, 0xff, // "RIFF", size unknown
    0x57, 0x41, 0x56, 0x45, // "WAVE"
    0x66, 0x6d, 0x74, 0x20, 0x10, 0x00, 0x00, 0x00, // "fmt ", 16 bytes
    0x01, 0x00, 0x01, 0x00, // PCM, 1 channel
    0x80, 0x3e, 0x00, 0x00, // 16000 Hz
    0x00, 0x7d, 0x00, 0x00, // byte rate 32000
    0x02, 0x00, 0x10, 0x00, // block align 2, 16 bits
    0x4c, 0x49, 0x53, 0x54, 0x03, 0x00, 0x00, 0x00, 0x61, 0x62, 0x63, 0x00, // "LIST", 3 bytes + pad
    0x64, 0x61, 0x74, 0x61, dataBytes & 0xff, (dataBytes >>> 8) & 0xff, (dataBytes >>> 16) & 0xff, dataBytes >>> 24, // "data"
  ]);
}

describe("parseStreamWavHeader", () => {
  test("needs more bytes until the data chunk's header is in, then gives the format", () => {
    const header = wavHeader(0xffffffff);
    for (let n = 0; n < header.length; n++) expect(parseStreamWavHeader(header.subarray(0, n), "x")).toBeUndefined();
    expect(parseStreamWavHeader(header, "x")).toEqual({ sampleFormat: "s16", channels: 1, sampleRateHz: 16_000, bytesPerFrame: 2, dataBytes: undefined, headerBytes: 56 });
    expect(parseStreamWavHeader(wavHeader(10), "x")?.dataBytes).toBe(10);
  });

  test.each([
    ["not-wav", new TextEncoder().encode("OggS and so on")],
    ["corrupt", (() => { const h = wavHeader(0); h[32] = 3; return h; })()], // block align 3
    ["unsupported", (() => { const h = wavHeader(0); h[20] = 6; return h; })()], // A-law
  ])("%s", (code, bytes) => {
    try {
      parseStreamWavHeader(bytes, "stdin");
      expect.unreachable();
    } catch (error) {
      expect(isCliError(error) && error.code).toBe(code);
      expect((error as Error).message).toMatch(/^stdin: /);
    }
  });
});

test("decodeInterleaved scales each format to [-1, 1)", () => {
  const s16 = new Uint8Array([0x00, 0x80, 0xff, 0x7f]); // -32768, 32767 as 2 channels
  expect(decodeInterleaved(s16, "s16", 2)).toEqual([Float32Array.of(-1), Float32Array.of(32_767 / 32_768)]);
  const s24 = new Uint8Array([0x00, 0x00, 0x80, 0xff, 0xff, 0x7f]);
  expect(decodeInterleaved(s24, "s24", 1)).toEqual([Float32Array.of(-1, 8_388_607 / 8_388_608)]);
  expect(() => decodeInterleaved(new Uint8Array(3), "s16", 1)).toThrow(RangeError);
});

describe("StreamInput and StreamOutput", () => {
  test("a WAV written by StreamOutput and read back by StreamInput in odd pieces keeps every sample (f32 and s16)", async () => {
    for (const sampleFormat of ["f32", "s16"] as const) {
      const sink = new PassThrough();
      const bytes: Buffer[] = [];
      sink.on("data", (b: Buffer) => bytes.push(b));
      const out = new StreamOutput(sink, { sampleRateHz: 24_000, channels: 2, sampleFormat });
      const left = Float32Array.from({ length: 1001 }, (_, i) => Math.fround(Math.sin(i / 7) * 0.5));
      const right = Float32Array.from({ length: 1001 }, (_, i) => Math.fround(Math.cos(i / 5) * 0.25));
      await out.write([left.subarray(0, 400), right.subarray(0, 400)]);
      await out.write([left.subarray(400), right.subarray(400)]);
      await out.close();
      const all = Buffer.concat(bytes);
      expect(all.length).toBe((sampleFormat === "f32" ? 58 : 44) + 1001 * 2 * (sampleFormat === "f32" ? 4 : 2));
      const pieces = Array.from({ length: Math.ceil(all.length / 37) }, (_, i) => all.subarray(i * 37, (i + 1) * 37));
      const input = await StreamInput.open(Readable.from(pieces), { sampleRateHz: 24_000, channels: 2 });
      const got: Float32Array[][] = [];
      for (let piece = await input.read(); piece !== null; piece = await input.read()) got.push(piece);
      const joined = [0, 1].map((c) => Float32Array.from(got.flatMap((p) => [...p[c]!])));
      expect(joined[0]!.length).toBe(1001);
      if (sampleFormat === "f32") expect(joined).toEqual([left, right]);
      else expect(Math.max(...joined[0]!.map((x, i) => Math.abs(x - left[i]!)))).toBeLessThanOrEqual(1 / 32_768);
    }
  });

  test("raw input: whole frames only, a partial frame at the end dropped; mixed to mono", async () => {
    const samples = new Int16Array([1000, 3000, -2000, -4000, 7]); // 2 frames of stereo + 1 stray sample
    const input = await StreamInput.open(Readable.from([new Uint8Array(samples.buffer)]), {
      sampleRateHz: 8000,
      channels: 1,
      rawFormat: parseRawFormat("s16le:8000:2"),
    });
    expect(await input.read()).toEqual([Float32Array.of(2000 / 32_768, -3000 / 32_768)]);
    expect(await input.read()).toBeNull();
  });

  test("a WAV's declared data size ends the audio even when more bytes follow", async () => {
    const stream = new Uint8Array([...wavHeader(4), 0x00, 0x40, 0x00, 0xc0, 0x11, 0x11]);
    const input = await StreamInput.open(Readable.from([stream]), { sampleRateHz: 16_000, channels: 1 });
    expect(await input.read()).toEqual([Float32Array.of(0.5, -0.5)]);
    expect(await input.read()).toBeNull();
  });

  test("a stream that ends inside the header is truncated, naming the stream", async () => {
    await expect(StreamInput.open(Readable.from([wavHeader(0).subarray(0, 30)]), { sampleRateHz: 16_000, channels: 1, name: "stdin" })).rejects.toMatchObject({
      code: "truncated",
      message: expect.stringMatching(/^stdin: /),
    });
  });

  test("buildWavHeader with a frame count is a complete header", () => {
    const header = buildWavHeader(48_000, 2, "s16", 10);
    const view = new DataView(header.buffer);
    expect(view.getUint32(4, true)).toBe(36 + 40);
    expect(view.getUint32(40, true)).toBe(40);
  });

  test("a reader that goes away fails the next write with an io error, never a crash", async () => {
    const sink = new PassThrough();
    const out = new StreamOutput(sink, { sampleRateHz: 8000, channels: 1 });
    sink.destroy(new Error("EPIPE"));
    await expect(out.write([new Float32Array(10)])).rejects.toMatchObject({ code: "io" });
  });
});
