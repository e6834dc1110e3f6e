import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { parseEncodecConfig } from "../config.js";
import { countSegments, ECDC_MODEL_LAYOUTS, ecdcLayoutFromConfig, planSegments } from "./segments.js";

const json = (p: string): Record<string, unknown> =>
  JSON.parse(readFileSync(fileURLToPath(new URL(`../../test/fixtures/${p}`, import.meta.url)), "utf8")) as Record<string, unknown>;

describe("planSegments", () => {
  test("24 kHz: one segment of ceil(al / 320) frames", () => {
    expect(planSegments(36000, ECDC_MODEL_LAYOUTS.encodec_24khz)).toEqual([{ offsetSamples: 0, lengthSamples: 36000, frames: 113 }]);
    expect(planSegments(320, ECDC_MODEL_LAYOUTS.encodec_24khz)[0]!.frames).toBe(1);
    expect(planSegments(321, ECDC_MODEL_LAYOUTS.encodec_24khz)[0]!.frames).toBe(2);
    expect(planSegments(0, ECDC_MODEL_LAYOUTS.encodec_24khz)).toEqual([]);
  });

  test("48 kHz: 1 s segments every 0.99 s", () => {
    expect(planSegments(120000, ECDC_MODEL_LAYOUTS.encodec_48khz)).toEqual([
      { offsetSamples: 0, lengthSamples: 48000, frames: 150 },
      { offsetSamples: 47520, lengthSamples: 48000, frames: 150 },
      { offsetSamples: 95040, lengthSamples: 24960, frames: 78 },
    ]);
    expect(planSegments(47521, ECDC_MODEL_LAYOUTS.encodec_48khz).map((s) => s.frames)).toEqual([149, 1]);
  });

  test.each([
    ["tiny24", "encodec_24khz"],
    ["tiny48", "encodec_48khz"],
  ] as const)("%s: its config gives the %s layout, and meta.json's segment count", (tiny, name) => {
    const layout = ecdcLayoutFromConfig(parseEncodecConfig(json(`${tiny}/config.json`)));
    expect(layout).toEqual(ECDC_MODEL_LAYOUTS[name]);
    const meta = json(`${tiny}/meta.json`);
    expect(countSegments(meta.input_samples as number, layout)).toBe(meta.segments_bw6_0);
    if (layout.segmentSamples !== null) {
      expect([layout.segmentSamples, layout.strideSamples]).toEqual([meta.segment_length, meta.segment_stride]);
    }
  });

  test("segments start every stride, cover the audio and end at its end", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_000_000 }), fc.constantFrom(ECDC_MODEL_LAYOUTS.encodec_24khz, ECDC_MODEL_LAYOUTS.encodec_48khz), (al, layout) => {
        const plan = planSegments(al, layout);
        expect(plan.length).toBe(countSegments(al, layout));
        plan.forEach((s, i) => {
          expect(s.offsetSamples).toBe(i * (layout.strideSamples ?? al));
          expect(s.frames).toBe(Math.ceil(s.lengthSamples / (layout.sampleRateHz / layout.frameRateHz)));
        });
        const last = plan[plan.length - 1]!;
        expect(last.offsetSamples + last.lengthSamples).toBe(al);
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  test("misuse throws RangeError naming the parameter", () => {
    expect(() => planSegments(-1, ECDC_MODEL_LAYOUTS.encodec_24khz)).toThrow(/^audioLength must be/);
    expect(() => planSegments(10, { ...ECDC_MODEL_LAYOUTS.encodec_48khz, strideSamples: null })).toThrow(/^layout /);
  });
});
