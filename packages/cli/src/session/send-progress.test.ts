import { PassThrough } from "node:stream";
import { describe, expect, test } from "vitest";
import { SendProgress } from "./send-progress.js";

function lines(stream: PassThrough): string[] {
  const text = String(stream.read() ?? "");
  return text.split("\n").filter((line) => line !== "");
}

describe("SendProgress (plain lines, not a terminal)", () => {
  test("with --stats, a line for each tick of a once-a-second timer, also one that fires a little early", () => {
    const out = new PassThrough();
    let now = 0;
    const progress = new SendProgress(out, 6, true, () => now);
    const ticks = [1000, 1998, 3001, 3995, 5000];
    for (const [i, at] of ticks.entries()) {
      now = at;
      progress.update(i + 1, "x kbps");
    }
    expect(lines(out)).toEqual(["send: 1.0/6.0 s (17 %) | x kbps", "send: 2.0/6.0 s (33 %) | x kbps", "send: 3.0/6.0 s (50 %) | x kbps", "send: 4.0/6.0 s (67 %) | x kbps", "send: 5.0/6.0 s (83 %) | x kbps"]);
  });

  test("with --stats, updates between ticks print nothing", () => {
    const out = new PassThrough();
    let now = 0;
    const progress = new SendProgress(out, 6, true, () => now);
    progress.update(0.25);
    now = 300;
    progress.update(0.5);
    now = 850;
    progress.update(0.75);
    expect(lines(out)).toEqual(["send: 0.3/6.0 s (4 %)"]);
  });

  test("without --stats, a line a quarter of the input; a live input, a line every 5 s", () => {
    const file = new PassThrough();
    const progress = new SendProgress(file, 4, false, () => 0);
    for (let s = 0.5; s <= 4; s += 0.5) progress.update(s);
    expect(lines(file).map((line) => line.split(" ")[1])).toEqual(["1.0/4.0", "2.0/4.0", "3.0/4.0", "4.0/4.0"]);
    const live = new PassThrough();
    let now = 0;
    const liveProgress = new SendProgress(live, undefined, false, () => now);
    for (let s = 1; s <= 12; s++) {
      now = s * 1000;
      liveProgress.update(s);
    }
    expect(lines(live)).toEqual(["send: 1.0 s live", "send: 6.0 s live", "send: 11.0 s live"]);
  });
});
