// Runs every ```ts block of README.md as a module that imports "@encstream/cli" by name
// (vitest.config.ts maps the name to src/index.ts, so no build is needed) and checks that it
// prints exactly the ```text block that follows it. Also checks that the usage section names
// every flag of every command.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "node:util";
import { afterEach, expect, test, vi } from "vitest";
import type { CommandHandlers } from "./command-options.js";
import { buildProgram } from "./options.js";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const readme = await readFile(join(packageDir, "README.md"), "utf8");

afterEach(() => {
  vi.restoreAllMocks();
});

const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/g)].map((m) => ({
  code: m[1] as string,
  expected: (m[2] as string).trimEnd(),
}));

test("the README has examples, each followed by its output", () => {
  expect(examples.length).toBeGreaterThanOrEqual(2);
});

test.each(examples.map((example, index) => ({ index, ...example })))("README example $index prints what the README shows", async ({ code, expected }) => {
  expect(code).toContain('from "@encstream/cli"');
  expect(code.trim().split("\n").length).toBeLessThanOrEqual(12);
  await mkdir(join(packageDir, ".tmp"), { recursive: true });
  const dir = await mkdtemp(join(packageDir, ".tmp", "readme-"));
  const file = join(dir, "example.mts");
  await writeFile(file, code);
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(format(...args));
  });
  try {
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
    // The WAV example writes encstream-readme-<pid>.wav in the temp directory.
    await rm(join(tmpdir(), `encstream-readme-${process.pid}.wav`), { force: true });
  }
  expect(lines.join("\n")).toBe(expected);
});

test("the usage section documents every flag of every command", () => {
  const unused = async () => undefined;
  const handlers: CommandHandlers = { send: unused, receive: unused, encode: unused, decode: unused, pull: unused, devices: unused, keygen: unused };
  const usage = readme.slice(readme.indexOf("## Usage"), readme.indexOf("## As a library"));
  for (const command of buildProgram(handlers).commands) {
    const heading = usage.indexOf(`### \`encstream ${command.name()}\``);
    expect(heading, `section for ${command.name()}`).toBeGreaterThan(0);
    for (const option of command.options) {
      if (option.long === "--help") continue;
      expect(usage, `${command.name()} ${option.flags}`).toContain(`\`${option.flags}\``);
    }
  }
});
