#!/usr/bin/env node
// Installs the `encstream` command from this repository, as the npm packages it would be
// published as: each package under packages/ is packed with `npm pack` (its `workspace:^`
// dependencies written as the version ranges a publish would give them) and the tarballs are
// installed together with `npm install --global`, so they find one another without a registry.
// Needs only Node and npm (no pnpm): build the packages first.
//
//   node scripts/install-cli.mjs [--prefix DIR] [--pack-only DIR] [--no-playback] [--onnxruntime SPEC]
//
//   --prefix DIR        npm's global prefix to install into (default: npm's own, e.g. /usr/local)
//   --pack-only DIR     write the tarballs into DIR and install nothing
//   --no-playback       leave out the optional naudiodon2 (no native build; `receive --output` only)
//   --onnxruntime SPEC  where onnxruntime-node comes from (default: the version the CLI pins, from
//                       the registry); a folder or a tarball works offline
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGES = join(ROOT, "packages");

function fail(message) {
  process.stderr.write(`install-cli: ${message}\n`);
  process.exit(1);
}

function npm(args, options = {}) {
  const result = spawnSync(process.platform === "win32" ? "npm.cmd" : "npm", args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", ...options });
  if (result.error) fail(`cannot run npm (${result.error.message}); npm comes with Node.js`);
  if (result.status !== 0) fail(`npm ${args[0]} failed (exit ${result.status})`);
  return result.stdout;
}

let values;
try {
  ({ values } = parseArgs({
    options: { prefix: { type: "string" }, "pack-only": { type: "string" }, "no-playback": { type: "boolean" }, onnxruntime: { type: "string" } },
    strict: true,
  }));
} catch (error) {
  fail(`${error.message}\nusage: node scripts/install-cli.mjs [--prefix DIR] [--pack-only DIR] [--no-playback] [--onnxruntime SPEC]`);
}

// The workspace's packages, by name.
const manifests = new Map();
for (const name of readdirSync(PACKAGES)) {
  const file = join(PACKAGES, name, "package.json");
  if (!existsSync(file)) continue;
  const manifest = JSON.parse(readFileSync(file, "utf8"));
  if (manifest.private) continue;
  manifests.set(manifest.name, { dir: join(PACKAGES, name), manifest });
}
if (!manifests.has("@encstream/cli")) fail(`no packages/cli in ${ROOT}`);

/** A dependency map with `workspace:` ranges written as a publish writes them. */
function publishedRanges(dependencies = {}) {
  const out = {};
  for (const [name, range] of Object.entries(dependencies)) {
    if (!range.startsWith("workspace:")) {
      out[name] = range;
      continue;
    }
    const target = manifests.get(name);
    if (target === undefined) fail(`${name} (a workspace dependency) is not in packages/`);
    const spec = range.slice("workspace:".length);
    out[name] = spec === "^" || spec === "~" ? `${spec}${target.manifest.version}` : spec === "*" ? target.manifest.version : spec;
  }
  return out;
}

const packDir = resolve(values["pack-only"] ?? mkdtempSync(join(tmpdir(), "encstream-packed-")));
mkdirSync(packDir, { recursive: true });
const stage = mkdtempSync(join(tmpdir(), "encstream-stage-"));
const tarballs = [];
try {
  for (const [name, { dir, manifest }] of manifests) {
    for (const entry of manifest.files ?? []) {
      if (!existsSync(join(dir, entry))) fail(`${name}: ${entry} is missing; build first (npx -y pnpm@10.34.9 build)`);
    }
    const staged = join(stage, name.replace("/", "+"));
    mkdirSync(staged);
    for (const entry of [...(manifest.files ?? []), "README.md", "LICENSE"]) {
      if (existsSync(join(dir, entry))) cpSync(join(dir, entry), join(staged, entry), { recursive: true });
    }
    const published = { ...manifest, dependencies: publishedRanges(manifest.dependencies), optionalDependencies: publishedRanges(manifest.optionalDependencies) };
    delete published.devDependencies;
    delete published.scripts;
    if (Object.keys(published.optionalDependencies).length === 0) delete published.optionalDependencies;
    writeFileSync(join(staged, "package.json"), `${JSON.stringify(published, null, 2)}\n`);
    const packed = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", packDir], { cwd: staged }));
    tarballs.push(join(packDir, packed[0].filename));
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
process.stdout.write(`packed ${tarballs.length} packages into ${packDir}\n`);
if (values["pack-only"] !== undefined) process.exit(0);

// codec loads onnxruntime-node, a peer dependency: installed at the top of the global folder,
// next to the packages, every one of them finds it (the CLI's own copy is nested under it).
const cli = manifests.get("@encstream/cli").manifest;
const onnxruntime = values.onnxruntime ?? `onnxruntime-node@${cli.dependencies["onnxruntime-node"]}`;
const args = ["install", "--global", "--no-audit", "--no-fund", ...tarballs, onnxruntime];
if (values.prefix !== undefined) args.push("--prefix", resolve(values.prefix));
if (values["no-playback"]) args.push("--omit=optional");
process.stdout.write(`npm ${args.join(" ")}\n`);
// onnxruntime-node's install script only fetches GPU builds; the CPU build is in its package.
process.stdout.write(npm(args, { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" } }) ?? "");
if (values["pack-only"] === undefined && values.prefix === undefined) rmSync(packDir, { recursive: true, force: true });
process.stdout.write("installed: run `encstream --help`\n");
