// Runs the example of the README's "Language model" section (its first ```js block) as a module,
// with its "@encstream/codec" import pointed at the sources, on the tiny 24 kHz test LM, and
// checks that it prints the ```text block that follows it.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, test } from "vitest";
import { packageDir, runExampleModule } from "../../test/support/readme-example.js";

const readme = await readFile(path.join(packageDir, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("## Language model"));
const match = /```js\n([\s\S]*?)```[\s\S]*?```text\n([\s\S]*?)```/.exec(section);

test("the README's language-model example runs on the tiny LM and prints what the README shows", async () => {
  expect(readme).toContain("## Language model");
  expect(match, "a ```js block followed by a ```text block").not.toBeNull();
  const [, code, expected] = match as unknown as [string, string, string];
  expect(code).toContain('from "@encstream/codec"');
  expect(code).toContain('"./encodec_lm_24khz-1608e3c0.th"');
  const tinyLm = fileURLToPath(new URL("../../test/fixtures/tiny24/lm.th", import.meta.url));
  const index = pathToFileURL(fileURLToPath(new URL("../index.ts", import.meta.url))).href;
  const printed = await runExampleModule(
    code.replace('"./encodec_lm_24khz-1608e3c0.th"', JSON.stringify(tinyLm)).replace('from "@encstream/codec"', `from ${JSON.stringify(index)}`),
    { tmpPrefix: "readme-lm-" },
  );
  expect(printed).toBe(expected.trimEnd());
});
