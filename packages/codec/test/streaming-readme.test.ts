// Runs the first ```typescript block of the README's "## Streaming" section on the tiny 24 kHz
// test model, its imports of "@encstream/codec" and "@encstream/codec/node" pointed at the
// sources, and checks that it prints the ```text block after it.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { fixturePath } from "./support/fixtures.js";
import { packageDir, runExampleModule } from "./support/readme-example.js";

const readme = await readFile(path.join(packageDir, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("\n## Streaming\n"));
const match = /```typescript\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/.exec(section);

test("the README's streaming example runs on the tiny model and prints what the README shows", async () => {
  expect(readme).toContain("\n## Streaming\n");
  expect(match, "a ```typescript block followed by a ```text block").not.toBeNull();
  const [, code, expected] = match as unknown as [string, string, string];
  expect(code).toContain('"./encodec_24khz"');
  // The example names the published model's folder; here it runs on the tiny model of the same architecture.
  const source = (entry: string) => JSON.stringify(path.join(packageDir, "src", entry));
  const printed = await runExampleModule(
    code
      .replace('"./encodec_24khz"', JSON.stringify(fixturePath("tiny24")))
      .replaceAll('from "@encstream/codec/node"', `from ${source("node.ts")}`)
      .replaceAll('from "@encstream/codec"', `from ${source("index.ts")}`),
    { tmpPrefix: "readme-streaming-", isolateCache: true },
  );
  expect(printed).toBe(expected.trimEnd());
});
