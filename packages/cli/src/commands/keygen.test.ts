import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parseKeyFile } from "@encstream/packet";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { isCliError } from "../errors.js";
import { loadStreamKeys } from "../keys.js";
import { runKeygen } from "./keygen.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "encstream-keygen-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function io() {
  let out = "";
  const stdout = new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) });
  return { io: { stdout, stderr: stdout }, text: () => out };
}

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    return isCliError(error) ? `${error.code}: ${error.message}` : `other: ${String(error)}`;
  }
  return "none";
}

describe("encstream keygen", () => {
  test("writes a key file with mode 0600 that send and receive read back", async () => {
    const file = join(dir, "stream.key");
    const { io: out, text } = io();
    const result = await runKeygen({ output: file, keyId: 42, rotate: false, force: false }, out);
    expect(result).toEqual({ output: file, keyId: 42, keys: 1 });
    if (process.platform !== "win32") expect((await stat(file)).mode & 0o777).toBe(0o600);
    const keys = parseKeyFile(await readFile(file, "utf8"));
    expect(keys.map((k) => k.keyId)).toEqual([42]);
    expect(await loadStreamKeys(file, {})).toEqual({ keys, source: file, warning: undefined });
    expect(text()).toContain(`--key-file ${file}`);
  });

  test("refuses to replace a file unless --force; --rotate puts a new key first and keeps the old", async () => {
    const file = join(dir, "k");
    const first = await runKeygen({ output: file, keyId: 1, rotate: false, force: false }, io().io);
    expect(await codeOf(() => runKeygen({ output: file, keyId: undefined, rotate: false, force: false }, io().io))).toMatch(/^io: .*already exists/);
    const old = parseKeyFile(await readFile(file, "utf8"));
    expect(await codeOf(() => runKeygen({ output: file, keyId: 1, rotate: true, force: false }, io().io))).toMatch(/^usage: --key-id 1/);
    const rotated = await runKeygen({ output: file, keyId: undefined, rotate: true, force: false }, io().io);
    expect(rotated.keys).toBe(2);
    expect(rotated.keyId).not.toBe(first.keyId);
    const keys = parseKeyFile(await readFile(file, "utf8"));
    expect(keys[1]).toEqual(old[0]);
    await runKeygen({ output: file, keyId: 9, rotate: false, force: true }, io().io);
    expect(parseKeyFile(await readFile(file, "utf8")).map((k) => k.keyId)).toEqual([9]);
  });

  test("key errors name the file or the variable; a readable key file is warned about", async () => {
    const bad = join(dir, "bad.key");
    await writeFile(bad, "encstream-key-v1\nkey 1 abcd\n");
    expect(await codeOf(() => loadStreamKeys(bad, {}))).toMatch(/^bad-key: .*bad\.key, line 2: the key must be 64 hex digits/);
    expect(await codeOf(() => loadStreamKeys(join(dir, "missing.key"), {}))).toMatch(/^io: .*missing\.key/);
    expect(await codeOf(() => loadStreamKeys(undefined, { ENCSTREAM_KEY: "nope" }))).toMatch(/^bad-key: ENCSTREAM_KEY, key 1/);
    expect(await loadStreamKeys(undefined, {})).toBeUndefined();
    const hex = "ab".repeat(32);
    expect((await loadStreamKeys(undefined, { ENCSTREAM_KEY: `7:${hex}` }))?.keys.map((k) => k.keyId)).toEqual([7]);
    const open = join(dir, "open.key");
    await writeFile(open, `encstream-key-v1\nkey 3 ${hex}\n`, { mode: 0o644 });
    if (process.platform !== "win32") expect((await loadStreamKeys(open, {}))?.warning).toMatch(/can be read by other users \(mode 644\): chmod 600/);
    expect(await codeOf(() => runKeygen({ output: bad, keyId: undefined, rotate: true, force: false }, io().io))).toMatch(/^bad-key: /);
  });
});
