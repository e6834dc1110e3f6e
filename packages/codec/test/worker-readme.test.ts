// Runs the ```typescript block of the README's "### Off the event loop: worker threads" section on
// the tiny 24 kHz test model (imports pointed at the sources; the worker script is the built
// dist/codec-worker.js) and checks that it prints the ```text block after it.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "vitest";
import { fixturePath } from "./support/fixtures.js";
import { packageDir, runExampleModule } from "./support/readme-example.js";

const readme = await readFile(path.join(packageDir, "README.md"), "utf8");
const heading = "\n### Off the event loop: worker threads\n";
const section = readme.slice(readme.indexOf(heading));
const match = /```typescript\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/.exec(section);

test("the README's worker example runs on the tiny model and prints what the README shows", async () => {
  expect(readme).toContain(heading);
  expect(match, "a ```typescript block followed by a ```text block").not.toBeNull();
  const [, code, expected] = match as unknown as [string, string, string];
  expect(code).toContain('"./encodec_24khz"');
  const printed = await runExampleModule(
    code
      .replaceAll('"./encodec_24khz"', JSON.stringify(fixturePath("tiny24")))
      .replaceAll('from "@encstream/codec/node"', `from ${JSON.stringify(path.join(packageDir, "src", "node.ts"))}`),
    { tmpPrefix: "readme-workers-", isolateCache: true },
  );
  expect(printed).toBe(expected.trimEnd());
});
