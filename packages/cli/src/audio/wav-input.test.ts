import { mkdir, readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import wavefile from "wavefile";
import { beforeAll, describe, expect, test } from "vitest";
import { MAX_WAV_FILE_BYTES, MAX_WAV_HEADER_BYTES } from "../constants.js";
import { isCliError } from "../errors.js";
import { concatFloat32, makeTempDir, maxAbsDiff, seededRandom, sine } from "../../test/helpers.js";
import { WavInput, readWavFile } from "./wav-input.js";
import { WavReader } from "./wav-reader.js";

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir("wav-input");
});

/** Writes a WAV with wavefile (the oracle) and returns its path. */
async function writeWithWavefile(
  name: string,
  channels: number,
  sampleRateHz: number,
  bitDepth: string,
  samples: number[][],
): Promise<string> {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(channels, sampleRateHz, bitDepth, samples);
  const path = join(dir, name);
  await writeFile(path, wav.toBuffer());
  return path;
}

/** Integer test samples covering the extremes of a `bits`-bit signed range. */
function intSamples(bits: number, frames: number, seed: number): number[] {
  const random = seededRandom(seed);
  const max = 2 ** (bits - 1);
  const values = [-max, max - 1, 0, 1, -1];
  while (values.length < frames) values.push(Math.floor(random() * 2 * max) - max);
  return values.slice(0, frames);
}

describe("readWavFile without conversion", () => {
  const cases: Array<{ bitDepth: string; format: string; toFloat: (value: number) => number; raw: (frames: number, seed: number) => number[] }> = [
    { bitDepth: "8", format: "u8", toFloat: (v) => (v - 128) / 128, raw: (n, s) => intSamples(8, n, s).map((v) => v + 128) },
    { bitDepth: "16", format: "s16", toFloat: (v) => v / 32768, raw: (n, s) => intSamples(16, n, s) },
    { bitDepth: "24", format: "s24", toFloat: (v) => v / 8388608, raw: (n, s) => intSamples(24, n, s) },
    { bitDepth: "32", format: "s32", toFloat: (v) => v / 2147483648, raw: (n, s) => intSamples(32, n, s) },
    // Float samples pass through unclipped, so some exceed 1.
    { bitDepth: "32f", format: "f32", toFloat: (v) => Math.fround(v), raw: (n, s) => Array.from({ length: n }, (_, i) => Math.sin(i * s) * (i % 3 === 0 ? 1.5 : 0.9)) },
    { bitDepth: "64", format: "f64", toFloat: (v) => Math.fround(v), raw: (n, s) => Array.from({ length: n }, (_, i) => Math.sin(i + s) * 0.999) },
  ];
  test.each(cases.flatMap((c) => [1, 2, 3].map((channels) => ({ ...c, channels }))))(
    "$format with $channels channel(s) matches wavefile's decoding",
    async ({ bitDepth, format, toFloat, raw, channels }) => {
      const frames = 1_000;
      const samples = Array.from({ length: channels }, (_, c) => raw(frames, c + 1));
      const path = await writeWithWavefile(`${format}-${channels}.wav`, channels, 8000, bitDepth, samples);
      const result = await readWavFile(path);
      expect(result.sourceFormat).toBe(format);
      expect(result.sourceChannels).toBe(channels);
      expect(result.sourceRateHz).toBe(8000);
      expect(result.sampleRateHz).toBe(8000);
      expect(result.durationS).toBeCloseTo(frames / 8000, 12);
      // wavefile's own decoding of the same bytes is the reference.
      const decoded = new wavefile.WaveFile(await readFile(path));
      const reference = decoded.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
      const referenceChannels = channels === 1 ? [reference as Float64Array] : (reference as Float64Array[]);
      expect(result.audio).toHaveLength(channels);
      for (let c = 0; c < channels; c++) {
        const expected = Float32Array.from(referenceChannels[c] as Float64Array, toFloat);
        expect(result.audio[c]).toEqual(expected);
      }
    },
  );
});

describe("readWavFile with conversion", () => {
  test("44.1 kHz stereo to 24 kHz mono: exact length, mean of the channels, sine preserved", async () => {
    const frames = 44_100;
    const left = sine(frames, 440, 44_100, 0.6);
    const right = sine(frames, 440, 44_100, 0.2);
    const toInt = (a: Float32Array) => Array.from(a, (v) => Math.round(v * 32767));
    const path = await writeWithWavefile("stereo-44k.wav", 2, 44_100, "16", [toInt(left), toInt(right)]);
    const result = await readWavFile(path, { sampleRateHz: 24_000, channels: 1 });
    expect(result.audio).toHaveLength(1);
    expect(result.audio[0]).toHaveLength(24_000);
    expect(result.sourceRateHz).toBe(44_100);
    expect(result.sourceChannels).toBe(2);
    expect(result.durationS).toBe(1);
    // Mean of 0.6 and 0.2 amplitude sines in phase: a 0.4 amplitude sine at the new rate.
    const expected = sine(24_000, 440, 24_000, 0.4);
    expect(maxAbsDiff(result.audio[0] as Float32Array, expected, 100, 23_900)).toBeLessThan(2e-3);
  });

  test("mono 16 kHz to stereo 48 kHz duplicates the channel", async () => {
    const frames = 1_601;
    const path = await writeWithWavefile("mono-16k.wav", 1, 16_000, "32f", [Array.from(sine(frames, 1000, 16_000))]);
    const result = await readWavFile(path, { sampleRateHz: 48_000, channels: 2 });
    expect(result.audio).toHaveLength(2);
    expect(result.audio[0]).toHaveLength(Math.ceil((frames * 48_000) / 16_000));
    expect(result.audio[1]).toEqual(result.audio[0]);
    expect(maxAbsDiff(result.audio[0] as Float32Array, sine(4_803, 1000, 48_000), 200, 4_600)).toBeLessThan(2e-3);
  });

  test("downmix without resampling is the exact mean; 3 channels to stereo averages 0 and 2", async () => {
    const a = [1000, -2000, 3000];
    const b = [3000, 2000, -1000];
    const c = [-1000, 0, 1001];
    const path = await writeWithWavefile("three.wav", 3, 24_000, "16", [a, b, c]);
    const mono = await readWavFile(path, { sampleRateHz: 24_000, channels: 1 });
    expect(mono.audio[0]).toHaveLength(3);
    a.forEach((_, i) => {
      const mean = ((a[i] as number) + (b[i] as number) + (c[i] as number)) / 3 / 32768;
      expect((mono.audio[0] as Float32Array)[i]).toBeCloseTo(mean, 6);
    });
    const stereo = await readWavFile(path, { channels: 2 });
    expect(Array.from(stereo.audio[0] as Float32Array)).toEqual(a.map((v, i) => ((v + (c[i] as number)) / 2) / 32768));
    expect(Array.from(stereo.audio[1] as Float32Array)).toEqual(b.map((v) => v / 32768));
  });
});

describe("WavInput streams the same audio in bounded pieces", () => {
  test.each([
    { sourceRate: 44_100, targetRate: 24_000, sourceChannels: 2, channels: 1, chunkFrames: 1_000 },
    { sourceRate: 24_000, targetRate: 24_000, sourceChannels: 1, channels: 2, chunkFrames: 777 },
    { sourceRate: 22_050, targetRate: 48_000, sourceChannels: 2, channels: 2, chunkFrames: 4_096 },
  ])("$sourceRate Hz × $sourceChannels → $targetRate Hz × $channels in chunks of $chunkFrames", async (c) => {
    const frames = 20_000;
    const random = seededRandom(c.chunkFrames);
    const samples = Array.from({ length: c.sourceChannels }, () => Array.from({ length: frames }, () => Math.floor(random() * 60000) - 30000));
    const path = await writeWithWavefile(`stream-${c.sourceRate}-${c.chunkFrames}.wav`, c.sourceChannels, c.sourceRate, "16", samples);
    const whole = await readWavFile(path, { sampleRateHz: c.targetRate, channels: c.channels });
    const input = await WavInput.open(path, { sampleRateHz: c.targetRate, channels: c.channels, chunkFrames: c.chunkFrames });
    expect(input.frameCount).toBe(Math.ceil((frames * c.targetRate) / c.sourceRate));
    const pieces: Float32Array[][] = [];
    for await (const piece of input) pieces.push(piece);
    const maxPiece = Math.ceil((c.chunkFrames * c.targetRate) / c.sourceRate) + 1024;
    for (const piece of pieces) {
      expect(piece).toHaveLength(c.channels);
      expect((piece[0] as Float32Array).length).toBeGreaterThan(0);
      expect((piece[0] as Float32Array).length).toBeLessThanOrEqual(maxPiece);
    }
    for (let ch = 0; ch < c.channels; ch++) {
      expect(concatFloat32(pieces.map((p) => p[ch] as Float32Array))).toEqual(whole.audio[ch]);
    }
    expect(await input.read()).toBeNull();
  });
});

/** A WAV byte image from parts: a RIFF header around the given chunks. */
function riff(...chunks: number[][]): Uint8Array {
  const body = chunks.flat();
  const size = 4 + body.length;
  return Uint8Array.from([
    0x52, 0x49, 0x46, 0x46, // "RIFF"
    size & 0xff, (size >> 8) & 0xff, (size >> 16) & 0xff, size >>> 24, // RIFF size
    0x57, 0x41, 0x56, 0x45, // "WAVE"
    ...body,
  ]);
}

const FMT_S16_MONO_8K = [
  0x66, 0x6d, 0x74, 0x20, // "fmt "
  0x10, 0x00, 0x00, 0x00, // chunk size 16
  0x01, 0x00, // format tag 1 (PCM)
  0x01, 0x00, // 1 channel
  0x40, 0x1f, 0x00, 0x00, // 8000 Hz
  0x80, 0x3e, 0x00, 0x00, // byte rate 16000
  0x02, 0x00, // block align 2
  0x10, 0x00, // 16 bits
];

const DATA_TWO_S16 = [
  0x64, 0x61, 0x74, 0x61, // "data"
  0x04, 0x00, 0x00, 0x00, // 4 bytes
  0x00, 0x40, // 16384 → 0.5
  0x00, 0xc0, // -16384 → -0.5
];

describe("byte fixtures", () => {
  test("WAVE_FORMAT_EXTENSIBLE 24-bit stereo", async () => {
    const bytes = riff(
      [
        0x66, 0x6d, 0x74, 0x20, // "fmt "
        0x28, 0x00, 0x00, 0x00, // chunk size 40
        0xfe, 0xff, // format tag 0xFFFE (extensible)
        0x02, 0x00, // 2 channels
        0x80, 0xbb, 0x00, 0x00, // 48000 Hz
        0x00, 0x65, 0x04, 0x00, // byte rate 288000
        0x06, 0x00, // block align 6
        0x18, 0x00, // 24 bits
        0x16, 0x00, // extension size 22
        0x18, 0x00, // 24 valid bits
        0x03, 0x00, 0x00, 0x00, // channel mask: front left | front right
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, // sub-format GUID: PCM (0x0001)...
        0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71, // ...00000001-0000-0010-8000-00aa00389b71
      ],
      [
        0x64, 0x61, 0x74, 0x61, // "data"
        0x0c, 0x00, 0x00, 0x00, // 12 bytes: 2 frames
        0x00, 0x00, 0x40, // L0 = 0x400000 → 0.5
        0x00, 0x00, 0xc0, // R0 = -0x400000 → -0.5
        0xff, 0xff, 0x7f, // L1 = 8388607 → just under 1
        0x00, 0x00, 0x80, // R1 = -8388608 → -1
      ],
    );
    const path = join(dir, "extensible.wav");
    await writeFile(path, bytes);
    const result = await readWavFile(path);
    expect(result.sourceFormat).toBe("s24");
    expect(result.sampleRateHz).toBe(48_000);
    expect(Array.from(result.audio[0] as Float32Array)).toEqual([0.5, 8388607 / 8388608]);
    expect(Array.from(result.audio[1] as Float32Array)).toEqual([-0.5, -1]);
  });

  test("skips an odd-sized chunk and its pad byte before fmt and data", async () => {
    const list = [
      0x4c, 0x49, 0x53, 0x54, // "LIST"
      0x03, 0x00, 0x00, 0x00, // 3 bytes
      0x61, 0x62, 0x63, // "abc"
      0x00, // pad byte
    ];
    const path = join(dir, "odd-chunk.wav");
    await writeFile(path, riff(list, FMT_S16_MONO_8K, DATA_TWO_S16));
    const result = await readWavFile(path);
    expect(Array.from(result.audio[0] as Float32Array)).toEqual([0.5, -0.5]);
  });

  test("chunks in any order: a data chunk before the fmt chunk is read (wavefile indexes the chunks)", async () => {
    const path = join(dir, "data-first.wav");
    await writeFile(path, riff(DATA_TWO_S16, FMT_S16_MONO_8K));
    const result = await readWavFile(path);
    expect(Array.from(result.audio[0] as Float32Array)).toEqual([0.5, -0.5]);
  });

  test("a data chunk past the first 64 KiB of metadata is found (the parsed prefix grows)", async () => {
    const junkBytes = 200_001; // odd: a pad byte follows
    const junk = new Uint8Array(8 + junkBytes + 1);
    junk.set([0x4a, 0x55, 0x4e, 0x4b]); // "JUNK"
    new DataView(junk.buffer).setUint32(4, junkBytes, true);
    const path = join(dir, "big-junk.wav");
    await writeFile(path, riff([...junk], FMT_S16_MONO_8K, DATA_TWO_S16));
    const reader = await WavReader.open(path);
    try {
      expect(reader.format.dataOffsetBytes).toBe(12 + junk.length + 24 + 8);
      expect(Array.from((await reader.read(2))?.[0] ?? [])).toEqual([0.5, -0.5]);
    } finally {
      await reader.close();
    }
  });

  test("no data chunk within the first MAX_WAV_HEADER_BYTES is corrupt; a file over MAX_WAV_FILE_BYTES is refused before reading", async () => {
    const junkBytes = MAX_WAV_HEADER_BYTES; // the data chunk header starts past the limit
    const junk = new Uint8Array(8 + junkBytes);
    junk.set([0x4a, 0x55, 0x4e, 0x4b]); // "JUNK"
    new DataView(junk.buffer).setUint32(4, junkBytes, true);
    const path = join(dir, "huge-junk.wav");
    await writeFile(path, riff(FMT_S16_MONO_8K, [...junk], DATA_TWO_S16));
    await expect(readWavFile(path)).rejects.toMatchObject({ code: "corrupt", message: `${path}: no data chunk in the first ${MAX_WAV_HEADER_BYTES} bytes` });

    const huge = join(dir, "huge.wav");
    await writeFile(huge, riff(FMT_S16_MONO_8K, DATA_TWO_S16));
    await truncate(huge, MAX_WAV_FILE_BYTES + 1); // sparse: nothing is written
    await expect(readWavFile(huge)).rejects.toMatchObject({ code: "too-large", message: expect.stringContaining(`${huge}: `) });
  });

  test("a data size of 0xFFFFFFFF means: to the end of the file (whole frames)", async () => {
    const streamed = [
      0x64, 0x61, 0x74, 0x61, // "data"
      0xff, 0xff, 0xff, 0xff, // size unknown
      0x00, 0x20, // 8192 → 0.25
      0x00, 0xe0, // -8192 → -0.25
      0x01, // half a frame: ignored
    ];
    const path = join(dir, "streamed.wav");
    await writeFile(path, riff(FMT_S16_MONO_8K, streamed));
    const result = await readWavFile(path);
    expect(Array.from(result.audio[0] as Float32Array)).toEqual([0.25, -0.25]);
  });

  const withFmt = (patch: (fmt: number[]) => void): number[] => {
    const fmt = [...FMT_S16_MONO_8K];
    patch(fmt);
    return fmt;
  };

  test.each([
    { name: "text.wav", bytes: new TextEncoder().encode("hello, this is not audio\n"), code: "not-wav", message: /not a RIFF\/WAVE file/ },
    { name: "empty.wav", bytes: new Uint8Array(0), code: "not-wav", message: /0 bytes, too short/ },
    { name: "avi.wav", bytes: Uint8Array.from([0x52, 0x49, 0x46, 0x46, 4, 0, 0, 0, 0x41, 0x56, 0x49, 0x20]), code: "not-wav", message: /not a RIFF\/WAVE/ },
    { name: "rf64.wav", bytes: Uint8Array.from([0x52, 0x46, 0x36, 0x34, 0xff, 0xff, 0xff, 0xff, 0x57, 0x41, 0x56, 0x45]), code: "unsupported", message: /RF64/ },
    { name: "header-only.wav", bytes: riff(), code: "truncated", message: /ends before its data chunk/ },
    { name: "cut-fmt.wav", bytes: riff(FMT_S16_MONO_8K).subarray(0, 30), code: "truncated", message: /ends before its data chunk/ },
    { name: "no-fmt.wav", bytes: riff(DATA_TWO_S16), code: "corrupt", message: /no fmt chunk/ },
    { name: "short-fmt.wav", bytes: riff(withFmt((f) => (f[4] = 0x0e)).slice(0, 22), DATA_TWO_S16), code: "corrupt", message: /fmt chunk of 14 bytes/ },
    { name: "adpcm.wav", bytes: riff(withFmt((f) => (f[8] = 0x02)), DATA_TWO_S16), code: "unsupported", message: /Microsoft ADPCM is not supported/ },
    { name: "alaw.wav", bytes: riff(withFmt((f) => (f[8] = 0x06)), DATA_TWO_S16), code: "unsupported", message: /A-law is not supported/ },
    { name: "12bit.wav", bytes: riff(withFmt((f) => (f[22] = 12)), DATA_TWO_S16), code: "unsupported", message: /12-bit PCM is not supported/ },
    { name: "float16.wav", bytes: riff(withFmt((f) => (f[8] = 0x03)), DATA_TWO_S16), code: "unsupported", message: /16-bit float is not supported/ },
    { name: "no-channels.wav", bytes: riff(withFmt((f) => (f[10] = 0)), DATA_TWO_S16), code: "corrupt", message: /0 channels/ },
    { name: "slow.wav", bytes: riff(withFmt((f) => { f[12] = 0x10; f[13] = 0; }), DATA_TWO_S16), code: "unsupported", message: /sample rate 16 Hz/ },
    { name: "bad-align.wav", bytes: riff(withFmt((f) => (f[20] = 4)), DATA_TWO_S16), code: "corrupt", message: /block align 4/ },
    { name: "cut-data.wav", bytes: riff(FMT_S16_MONO_8K, DATA_TWO_S16).subarray(0, 46), code: "truncated", message: /declares 4 bytes but only 2 follow/ },
  ])("$name: CliError $code naming the file", async ({ name, bytes, code, message }) => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    const error = await readWavFile(path).catch((e: unknown) => e);
    expect(isCliError(error)).toBe(true);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message.startsWith(`${path}: `)).toBe(true);
  });

  test("a missing file and a directory are io errors naming the path", async () => {
    const missing = join(dir, "nope.wav");
    await expect(readWavFile(missing)).rejects.toMatchObject({ code: "io", message: `${missing}: cannot open (no such file or directory)` });
    const folder = join(dir, "folder.wav");
    await mkdir(folder);
    await expect(readWavFile(folder)).rejects.toMatchObject({ code: "io", message: expect.stringContaining(`${folder}: cannot read (is a directory)`) });
  });
});

describe("WavReader", () => {
  test("reads in pieces, then null; refuses bad sizes and reads after close", async () => {
    const path = join(dir, "pieces.wav");
    await writeFile(path, riff(FMT_S16_MONO_8K, DATA_TWO_S16));
    const reader = await WavReader.open(path);
    expect(reader.format).toMatchObject({ sampleFormat: "s16", channels: 1, sampleRateHz: 8000, frameCount: 2, dataOffsetBytes: 44 });
    await expect(reader.read(0)).rejects.toThrow(RangeError);
    expect(Array.from((await reader.read(1))?.[0] ?? [])).toEqual([0.5]);
    expect(reader.remainingFrames).toBe(1);
    expect(Array.from((await reader.read(10))?.[0] ?? [])).toEqual([-0.5]);
    expect(await reader.read(10)).toBeNull();
    await reader.close();
    await expect(reader.read(1)).rejects.toMatchObject({ code: "io" });
  });

  test("option misuse is a RangeError naming the option", async () => {
    const path = join(dir, "opts.wav");
    await writeFile(path, riff(FMT_S16_MONO_8K, DATA_TWO_S16));
    await expect(readWavFile(path, { sampleRateHz: 100 })).rejects.toThrow(/^sampleRateHz must be an integer in \[1000, 768000\], got 100$/);
    await expect(readWavFile(path, { channels: 0 })).rejects.toThrow(/^channels must be/);
    await expect(readWavFile(path, { chunkFrames: 1.5 })).rejects.toThrow(/^chunkFrames must be/);
    await expect(readWavFile(path, { resamplerQuality: 11 })).rejects.toThrow(/^resamplerQuality must be/);
  });
});
