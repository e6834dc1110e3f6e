// The built package in a context without Node: bundled by esbuild for the browser (a Node
// built-in anywhere in its import graph fails the bundle), then run in a V8 context whose
// globals are only web ones (no process, require or Buffer).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";
import { expect, test } from "vitest";

const entry = fileURLToPath(new URL("../dist/index.js", import.meta.url));

test("dist/index.js bundles for the browser with no Node built-in and runs with web globals only", async () => {
  expect(existsSync(entry), "build the package first (turbo's test task does)").toBe(true);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "encstreamSession",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.filter((path) => path.startsWith("node:") || /(^|\/)(fs|path|crypto|dgram|buffer)$/.test(path))).toEqual([]);
  expect(inputs.some((path) => path.includes("codec/dist"))).toBe(true); // the codec's core came along

  const code = result.outputFiles[0]!.text;
  const web = {
    crypto: globalThis.crypto,
    performance: globalThis.performance,
    setTimeout,
    clearTimeout,
    queueMicrotask,
    TextEncoder,
    TextDecoder,
    AbortController,
    AbortSignal,
    EventTarget,
    WebAssembly,
    console,
  };
  const context: Record<string, unknown> = { ...web };
  context.globalThis = context;
  runInNewContext(`${code}\nglobalThis.session = encstreamSession;`, context);
  const session = context.session as typeof import("../src/index.js");
  expect(context.process).toBeUndefined();
  expect(context.Buffer).toBeUndefined();
  const id = session.randomStreamId();
  expect(id >= 1 && id <= 0xffff).toBe(true);
  expect(session.streamIdOf(session.makeFragId(id, 5))).toBe(id);
  const [a, b] = session.createMemoryTransportPair();
  expect(await a.send([Uint8Array.of(1, 2)])).toBe("sent");
  await b.close();
  const got: number[][] = [];
  for await (const d of b) got.push([...d.bytes]);
  expect(got).toEqual([[1, 2]]);
});
