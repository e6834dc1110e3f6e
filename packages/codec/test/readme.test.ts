// Runs the first ```ts block of README.md as a module that imports "@encstream/codec/node" by
// name (vitest.config.ts maps the name to the sources) on the tiny 24 kHz test model, and checks
// that it prints the ```text block that follows it.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { fixturePath } from "./support/fixtures.js";
import { packageDir, runExampleModule } from "./support/readme-example.js";

const readme = await readFile(path.join(packageDir, "README.md"), "utf8");
const match = /```ts\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/.exec(readme);

test("the README's first example runs on the tiny model and prints what the README shows", async () => {
  expect(match, "a ```ts block followed by a ```text block").not.toBeNull();
  const [, code, expected] = match as unknown as [string, string, string];
  expect(code).toContain('from "@encstream/codec/node"');
  expect(code).toContain('"./encodec_24khz"');
  expect(code.trim().split("\n").length).toBeLessThanOrEqual(14);
  // The example names the published model's folder; here it runs on the tiny model of the same architecture.
  const printed = await runExampleModule(code.replace('"./encodec_24khz"', JSON.stringify(fixturePath("tiny24"))), { tmpPrefix: "readme-", isolateCache: true });
  expect(printed).toBe(expected.trimEnd());
});
