import { spawn, spawnSync } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import wavefile from "wavefile";
import { beforeAll, describe, expect, test } from "vitest";
import { isCliError } from "../errors.js";
import { makeTempDir, seededRandom } from "../../test/helpers.js";
import { patternSample } from "../../test/fixtures/wav-pattern.js";
import { readWavFile } from "./wav-input.js";
import { WavFileWriter, type WavWriteAt } from "./wav-writer.js";

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir("wav-writer");
});

/** Parses a file with wavefile (the independent oracle) and returns it with planar raw samples. */
async function parseWithWavefile(path: string) {
  const wav = new wavefile.WaveFile(await readFile(path));
  const fmt = wav.fmt as { audioFormat: number; numChannels: number; sampleRate: number; bitsPerSample: number; blockAlign: number };
  const samples = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const planar = fmt.numChannels === 1 ? [samples as Float64Array] : (samples as Float64Array[]);
  return { wav, fmt, planar };
}

/** What the s16 encoder must store for a float sample. */
function expectedS16(sample: number): number {
  if (Number.isNaN(sample)) return 0;
  return Math.max(-32768, Math.min(32767, Math.round(sample * 32768)));
}

describe("WavFileWriter", () => {
  test.each([
    { sampleFormat: "s16" as const, channels: 1 },
    { sampleFormat: "s16" as const, channels: 2 },
    { sampleFormat: "f32" as const, channels: 1 },
    { sampleFormat: "f32" as const, channels: 2 },
  ])("$sampleFormat × $channels: wavefile reads back every write, header and all", async ({ sampleFormat, channels }) => {
    const path = join(dir, `roundtrip-${sampleFormat}-${channels}.wav`);
    const writer = await WavFileWriter.create(path, { sampleRateHz: 48_000, channels, sampleFormat });
    const random = seededRandom(channels);
    const written: number[][] = Array.from({ length: channels }, () => []);
    for (const frames of [0, 1, 100, 3, 480]) {
      const audio = Array.from({ length: channels }, () => Float32Array.from({ length: frames }, () => random() * 2.4 - 1.2));
      await writer.write(audio);
      audio.forEach((channel, c) => written[c]?.push(...channel));
      // Valid after every write, not only after close.
      const { planar } = await parseWithWavefile(path);
      expect(planar[0]).toHaveLength(written[0]?.length ?? 0);
    }
    await writer.close();
    expect(writer.framesWritten).toBe(584);
    expect(writer.durationS).toBeCloseTo(584 / 48_000, 12);

    const { wav, fmt, planar } = await parseWithWavefile(path);
    expect(fmt).toMatchObject({
      audioFormat: sampleFormat === "s16" ? 1 : 3,
      numChannels: channels,
      sampleRate: 48_000,
      bitsPerSample: sampleFormat === "s16" ? 16 : 32,
      blockAlign: channels * (sampleFormat === "s16" ? 2 : 4),
    });
    if (sampleFormat === "f32") {
      expect((wav.fact as { dwSampleLength: number }).dwSampleLength).toBe(584);
    }
    for (let c = 0; c < channels; c++) {
      const expected = (written[c] as number[]).map((v) => (sampleFormat === "s16" ? expectedS16(v) : Math.fround(v)));
      expect(Array.from(planar[c] as Float64Array)).toEqual(expected);
    }
    // And our own reader agrees.
    const ours = await readWavFile(path);
    expect(ours.sourceFormat).toBe(sampleFormat);
    expect(ours.audio[0]).toHaveLength(584);
  });

  test("s16 rounds to nearest and clips", async () => {
    const inputs = [1, -1, 1.5, -2, Number.NaN, 0.5 / 32768, 0.49 / 32768, -0.51 / 32768, 32766.6 / 32768, Number.POSITIVE_INFINITY];
    const path = join(dir, "clip.wav");
    const writer = await WavFileWriter.create(path, { sampleRateHz: 8_000, channels: 1 });
    await writer.write([Float32Array.from(inputs)]);
    await writer.close();
    const { planar } = await parseWithWavefile(path);
    expect(Array.from(planar[0] as Float64Array)).toEqual([32767, -32768, 32767, -32768, 0, 1, 0, -1, 32767, 32767]);
  });

  test("writes need not be awaited one by one; the order is kept", async () => {
    const path = join(dir, "queued.wav");
    const writer = await WavFileWriter.create(path, { sampleRateHz: 8_000, channels: 1, sampleFormat: "f32" });
    const block = new Float32Array(10);
    const pending: Array<Promise<void>> = [];
    for (let k = 0; k < 20; k++) {
      block.fill(k / 32); // reused at once: write() copies before returning
      pending.push(writer.write([block]));
    }
    await Promise.all(pending);
    await writer.close();
    const { planar } = await parseWithWavefile(path);
    expect(Array.from(planar[0] as Float64Array)).toEqual(Array.from({ length: 200 }, (_, i) => Math.floor(i / 10) / 32));
  });

  test("any sequence of writes leaves a file wavefile reads back exactly (property)", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("s16" as const, "f32" as const),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 5 }),
        fc.integer(),
        async (sampleFormat, channels, sizes, seed) => {
          const path = join(dir, `property-${run++}.wav`);
          const writer = await WavFileWriter.create(path, { sampleRateHz: 16_000, channels, sampleFormat });
          const random = seededRandom(seed);
          const written: number[][] = Array.from({ length: channels }, () => []);
          for (const frames of sizes) {
            const audio = Array.from({ length: channels }, () => Float32Array.from({ length: frames }, () => random() * 2 - 1));
            await writer.write(audio);
            audio.forEach((channel, c) => written[c]?.push(...channel));
          }
          await writer.close();
          const { planar } = await parseWithWavefile(path);
          for (let c = 0; c < channels; c++) {
            const expected = (written[c] as number[]).map((v) => (sampleFormat === "s16" ? expectedS16(v) : Math.fround(v)));
            expect(Array.from(planar[c] ?? [])).toEqual(expected);
          }
        },
      ),
      { numRuns: 40, seed: 7 },
    );
  });

  test("misuse and file-system errors", async () => {
    const missingDir = join(dir, "no-such-dir", "out.wav");
    const error = await WavFileWriter.create(missingDir, { sampleRateHz: 24_000, channels: 1 }).catch((e: unknown) => e);
    expect(isCliError(error)).toBe(true);
    expect(error).toMatchObject({ code: "io", message: `${missingDir}: cannot create (no such file or directory)` });

    await expect(WavFileWriter.create(join(dir, "x.wav"), { sampleRateHz: 24_000, channels: 0 })).rejects.toThrow(
      /^channels must be an integer in \[1, 64\], got 0$/,
    );
    await expect(WavFileWriter.create(join(dir, "x.wav"), { sampleRateHz: 10, channels: 1 })).rejects.toThrow(RangeError);
    await expect(
      WavFileWriter.create(join(dir, "x.wav"), { sampleRateHz: 24_000, channels: 1, sampleFormat: "s24" as "s16" }),
    ).rejects.toThrow(/^sampleFormat must be "s16" or "f32", got "s24"$/);

    const writer = await WavFileWriter.create(join(dir, "misuse.wav"), { sampleRateHz: 24_000, channels: 2 });
    expect(() => writer.write([new Float32Array(3)])).toThrow(/^audio must have 2 channel\(s\), got 1$/);
    expect(() => writer.write([new Float32Array(3), new Float32Array(2)])).toThrow(RangeError);
    await writer.close();
    await writer.close();
    expect(() => writer.write([new Float32Array(1), new Float32Array(1)])).toThrow(/write\(\) after close\(\)/);
  });
});

describe("WavFileWriter on a full disk", () => {
  /**
   * A disk that holds `capacity` bytes of this file: a write takes at most 1000 bytes a call
   * (short writes along the way) and nothing past the capacity, where it fails with ENOSPC or
   * makes no progress. Rewriting bytes already there (the header) always works, as on a real disk.
   */
  function diskOf(capacity: number, then: "ENOSPC" | "zero"): WavWriteAt {
    return async (file, bytes, offset, length, position) => {
      const n = Math.min(length, 1000, Math.max(0, capacity - position));
      if (n === 0) {
        if (then === "zero") return 0;
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      }
      return (await file.write(bytes, offset, n, position)).bytesWritten;
    };
  }

  test.each([
    { sampleFormat: "s16" as const, then: "ENOSPC" as const, reason: /cannot write \(\d+ of 9600 bytes written\) \(no space left on device\)$/ },
    { sampleFormat: "f32" as const, then: "zero" as const, reason: /cannot write \(short write: the file system took \d+ of 19200 bytes; is the disk full\?\)$/ },
  ])("$sampleFormat, then $then: the error names the file, and the header claims only whole frames on disk", async ({ sampleFormat, then, reason }) => {
    const path = join(dir, `full-${sampleFormat}.wav`);
    const header = sampleFormat === "s16" ? 44 : 58;
    const bytesPerFrame = sampleFormat === "s16" ? 4 : 8;
    // the header, two whole blocks of 2400 stereo frames, and 3003 bytes of the third
    const capacity = header + 2 * 2400 * bytesPerFrame + 3003;
    const writer = await WavFileWriter.create(path, { sampleRateHz: 24_000, channels: 2, sampleFormat, writeAt: diskOf(capacity, then) });
    const block = (k: number) => [0, 1].map((c) => Float32Array.from({ length: 2400 }, (_, i) => Math.fround(patternSample(k * 2400 + i, c))));
    await writer.write(block(0));
    await writer.write(block(1));
    const error = await writer.write(block(2)).catch((e: unknown) => e);
    expect(isCliError(error)).toBe(true);
    expect((error as Error).message.startsWith(`${path}: `)).toBe(true);
    expect((error as Error).message).toMatch(reason);
    // later writes and close fail the same way
    await expect(writer.write(block(3))).rejects.toBe(error);
    await expect(writer.close()).rejects.toBe(error);

    const partialFrames = Math.floor(3003 / bytesPerFrame);
    expect(writer.framesWritten).toBe(2 * 2400 + partialFrames);
    const file = await readFile(path);
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const declared = view.getUint32(header - 4, true);
    expect(declared).toBe((2 * 2400 + partialFrames) * bytesPerFrame);
    expect(header + declared).toBeLessThanOrEqual(file.length); // never more than what is on disk
    const { planar } = await parseWithWavefile(path);
    expect(planar[0]!.length).toBe(2 * 2400 + partialFrames);
    for (let i = 0; i < planar[0]!.length; i += 101) {
      const value = Math.fround(patternSample(i, 1));
      expect(planar[1]![i]).toBe(sampleFormat === "s16" ? expectedS16(value) : value);
    }
  });

  test("/dev/full: the OS refuses the first write; the error names the file and says why", async () => {
    const error = await WavFileWriter.create("/dev/full", { sampleRateHz: 24_000, channels: 1 }).catch((e: unknown) => e);
    expect(isCliError(error)).toBe(true);
    expect((error as Error).message).toBe("/dev/full: cannot write (no space left on device)");
  });

  test("a real full file system (a 64 KiB tmpfs; root only): the header never claims more than the file holds", async (context) => {
    const mountPoint = join(dir, "tiny-fs");
    await mkdir(mountPoint, { recursive: true });
    const mounted = process.getuid?.() === 0 && spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint]).status === 0;
    if (!mounted) {
      context.skip(); // not root, or no mount(8) here
      return;
    }
    try {
      const path = join(mountPoint, "out.wav");
      const writer = await WavFileWriter.create(path, { sampleRateHz: 24_000, channels: 2 });
      let error: unknown;
      for (let k = 0; k < 40 && error === undefined; k++) {
        await writer.write([0, 1].map((c) => Float32Array.from({ length: 1000 }, (_, i) => patternSample(k * 1000 + i, c)))).catch((e: unknown) => (error = e));
      }
      await writer.close().catch(() => undefined);
      expect(isCliError(error)).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: cannot write .*(no space left on device|disk full)`));
      const file = await readFile(path);
      const declared = new DataView(file.buffer, file.byteOffset).getUint32(40, true);
      expect(44 + declared).toBeLessThanOrEqual(file.length);
      expect(declared % 4).toBe(0);
      expect(declared).toBe(writer.framesWritten * 4);
      expect(declared).toBeGreaterThan(0);
    } finally {
      spawnSync("umount", [mountPoint]);
    }
  });
});

const CHILD = fileURLToPath(new URL("../../test/fixtures/wav-writer-child.ts", import.meta.url));
const BLOCK_FRAMES = 240;

/**
 * Starts the writer child, waits until it reports `blocks` completed writes, then sends `signal`.
 * Resolves with the last block number it reported, its exit code/signal and its output.
 */
function runChildUntil(path: string, sampleFormat: "s16" | "f32", mode: "plain" | "interrupt", blocks: number, signal: NodeJS.Signals) {
  return new Promise<{ lastBlock: number; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", CHILD, path, sampleFormat, "2", String(BLOCK_FRAMES), mode], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      let lastBlock = -1;
      let sent = false;
      child.stdout.setEncoding("utf8").on("data", (text: string) => {
        stdout += text;
        for (const line of stdout.split("\n").slice(0, -1)) {
          if (/^\d+$/.test(line)) lastBlock = Math.max(lastBlock, Number(line));
        }
        if (!sent && lastBlock >= blocks - 1) {
          sent = true;
          child.kill(signal);
        }
      });
      child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
      child.on("error", reject);
      child.on("exit", (code, exitSignal) => resolve({ lastBlock, code, signal: exitSignal, stdout, stderr }));
    },
  );
}

/** Checks that `path` parses with wavefile and holds whole blocks of the child's pattern. */
async function expectPatternFile(path: string, sampleFormat: "s16" | "f32", atLeastBlocks: number): Promise<number> {
  const { planar } = await parseWithWavefile(path);
  const frames = (planar[0] as Float64Array).length;
  expect(frames % BLOCK_FRAMES).toBe(0);
  expect(frames).toBeGreaterThanOrEqual(atLeastBlocks * BLOCK_FRAMES);
  for (let c = 0; c < 2; c++) {
    const channel = planar[c] as Float64Array;
    for (let i = 0; i < frames; i += 97) {
      const value = Math.fround(patternSample(i, c));
      expect(channel[i]).toBe(sampleFormat === "s16" ? expectedS16(value) : value);
    }
  }
  return frames;
}

describe("a writer in another process", () => {
  test.each(["s16", "f32"] as const)("killed with SIGKILL mid-stream leaves a valid %s WAV with every completed write", async (sampleFormat) => {
    const path = join(dir, `killed-${sampleFormat}.wav`);
    const result = await runChildUntil(path, sampleFormat, "plain", 30, "SIGKILL");
    expect(result.signal).toBe("SIGKILL");
    expect(result.lastBlock).toBeGreaterThanOrEqual(29);
    await expectPatternFile(path, sampleFormat, result.lastBlock + 1);
  });

  test.each([
    { signal: "SIGINT" as const, exitCode: 130 },
    { signal: "SIGTERM" as const, exitCode: 143 },
  ])("$signal runs the onInterrupt handler, which finalises the file, and exits with $exitCode", async ({ signal, exitCode }) => {
    const path = join(dir, `interrupted-${signal}.wav`);
    const result = await runChildUntil(path, "s16", "interrupt", 10, signal);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(exitCode);
    const finalised = /finalised (\d+)/.exec(result.stdout);
    expect(finalised).not.toBeNull();
    const frames = await expectPatternFile(path, "s16", result.lastBlock + 1);
    expect(frames).toBe(Number(finalised?.[1]));
  });
});
