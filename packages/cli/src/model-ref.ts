import { statSync } from "node:fs";
import { resolve } from "node:path";
import { DEFAULT_CHUNK_MS_24K, DEFAULT_CHUNK_MS_48K } from "@encstream/session";

/** Bandwidths EnCodec models are trained for, in kbps. */
export type BandwidthKbps = 1.5 | 3 | 6 | 12 | 24;

/** Every bandwidth the command line accepts, in kbps. */
export const BANDWIDTHS_KBPS: readonly BandwidthKbps[] = [1.5, 3, 6, 12, 24];

/** Short names of the two published EnCodec models. */
export type ModelPresetName = "24khz" | "48khz";

/** What is known of a published model without loading it. */
export interface ModelPreset {
  /** Short name on the command line. */
  readonly name: ModelPresetName;
  /** Hugging Face repository of its weights. */
  readonly repoId: string;
  /** Audio rate, Hz. */
  readonly sampleRateHz: number;
  /** Audio channels. */
  readonly channels: number;
  /** Bandwidths it was trained for, kbps. */
  readonly bandwidthsKbps: readonly BandwidthKbps[];
  /** Chunk length of the chunked (overlap-add) streaming mode when `--chunk-ms` is not given, ms. */
  readonly defaultChunkMs: number;
}

/**
 * The published models. Chunk defaults follow the seed: 6000 samples (250 ms) at 24 kHz and one
 * model segment (1 s) at 48 kHz, whose encoder normalises loudness per second.
 */
export const MODEL_PRESETS: Readonly<Record<ModelPresetName, ModelPreset>> = {
  "24khz": {
    name: "24khz",
    repoId: "facebook/encodec_24khz",
    sampleRateHz: 24_000,
    channels: 1,
    bandwidthsKbps: [1.5, 3, 6, 12, 24],
    defaultChunkMs: DEFAULT_CHUNK_MS_24K,
  },
  "48khz": {
    name: "48khz",
    repoId: "facebook/encodec_48khz",
    sampleRateHz: 48_000,
    channels: 2,
    bandwidthsKbps: [3, 6, 12, 24],
    defaultChunkMs: DEFAULT_CHUNK_MS_48K,
  },
};

/**
 * Which model a command uses, as given by `--model`: a published preset, a Hugging Face
 * repository (downloaded into the cache by `encstream pull`) or a local folder (`config.json` +
 * `model.safetensors`, or an original `.th` checkpoint).
 */
export type ModelRef =
  | { readonly kind: "preset"; readonly preset: ModelPreset }
  | { readonly kind: "repo"; readonly repoId: string }
  | { readonly kind: "directory"; readonly path: string };

/** `owner/name` on the Hugging Face Hub (the codec's `pullModel` also takes a bare `name`). */
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/**
 * Checks a Hugging Face repository id (`owner/name` or `name`, no `.`/`..` parts), mapping the
 * preset names `24khz`/`48khz` to their repositories. Returns the id or undefined.
 */
export function toRepoId(value: string): string | undefined {
  const preset = findPreset(value);
  if (preset !== undefined) return preset.repoId;
  if (!REPO_ID.test(value) || value.split("/").some((part) => part === "." || part === "..")) return undefined;
  return value;
}

function findPreset(value: string): ModelPreset | undefined {
  const lower = value.toLowerCase();
  return Object.values(MODEL_PRESETS).find(
    (preset) => lower === preset.name || lower === `encodec_${preset.name}` || lower === preset.repoId,
  );
}

/**
 * Resolves a `--model` value, in this order: a preset (`24khz`, `48khz`, `encodec_24khz`,
 * `facebook/encodec_24khz`…); an existing directory (so `./name` always means a folder); an
 * `owner/name` repository id. Returns a description of what is wrong otherwise.
 */
export function resolveModelRef(value: string): ModelRef | { readonly problem: string } {
  const preset = findPreset(value);
  if (preset !== undefined) return { kind: "preset", preset };
  if (isDirectory(value)) return { kind: "directory", path: resolve(value) };
  const repoId = toRepoId(value);
  if (repoId !== undefined && repoId.includes("/")) return { kind: "repo", repoId };
  if (/[/\\]/.test(value) || value.startsWith(".") || value.startsWith("~")) {
    return { problem: `${JSON.stringify(value)} is not an existing directory` };
  }
  return {
    problem: `expected 24khz, 48khz, a Hugging Face repository id (owner/name) or a model directory, got ${JSON.stringify(value)}`,
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
