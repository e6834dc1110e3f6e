import { KEY_BYTES } from "./constants.js";
import { PacketError } from "./errors.js";
import { checkInteger } from "./internal/check-integer.js";
import { checkKey } from "./internal/check-key.js";

/*
 * The key file (`encstream keygen` writes one; `--key-file` reads it). UTF-8 text, at most
 * 64 KiB; `#` starts a comment line, blank lines are ignored:
 *
 *   # encstream key file: keep it secret
 *   encstream-key-v1
 *   key 42 5d0c…(64 hex digits)…e1
 *
 * The first line that is not a comment is the format tag `encstream-key-v1`. Each `key` line
 * is a key id (0–255, unique in the file) and the 32-byte AES-256 key in hex. A sender seals
 * with the first key; a receiver accepts all of them, so keys rotate without a gap: add the
 * new key to the receivers' files, then put it first in the senders'.
 *
 * `ENCSTREAM_KEY` holds the same keys in one line: `42:5d0c…e1`, several separated by commas.
 */

/** One key of a key ring: its id (carried in every sealed datagram) and the AES-256 key. */
export interface StreamKey {
  /** Key id, 0–255. */
  readonly keyId: number;
  /** The 32-byte key. */
  readonly key: Uint8Array;
}

/** The format tag on the first line of a key file. */
export const KEY_FILE_TAG = "encstream-key-v1";

/** Largest key file accepted, bytes (characters). */
export const MAX_KEY_FILE_BYTES = 65_536;

/** Most keys in one key file or `ENCSTREAM_KEY` value: one per key id. */
export const MAX_KEYS = 256;

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const KEY_ID = /^(0|[1-9][0-9]{0,2})$/;

/**
 * Parses a key file's text (format above). The first key is the one to seal with.
 *
 * @param source the file's name, put first in error messages.
 * @throws PacketError `"bad-key"` naming `source`, the line and the problem: too large, no
 *   format tag, a malformed line, a key id out of 0–255 or repeated, a key that is not 64 hex
 *   digits, no key at all.
 */
export function parseKeyFile(text: string, source = "key file"): StreamKey[] {
  if (typeof text !== "string") throw new TypeError("text must be a string");
  if (text.length > MAX_KEY_FILE_BYTES) throw badKey(`${source}: ${text.length} characters, more than a key file's ${MAX_KEY_FILE_BYTES}`);
  const keys: StreamKey[] = [];
  let tagged = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `${source}, line ${i + 1}`;
    if (!tagged) {
      if (line !== KEY_FILE_TAG) throw badKey(`${where}: expected the format tag ${KEY_FILE_TAG} first (is this a key file?)`);
      tagged = true;
      continue;
    }
    const parts = line.split(/\s+/);
    if (parts.length !== 3 || parts[0] !== "key") throw badKey(`${where}: expected "key <id 0-255> <64 hex digits>", got ${parts.length} field(s)${parts[0] === "key" ? "" : " not starting with key"}`);
    addKey(keys, parts[1]!, parts[2]!, where);
  }
  if (!tagged) throw badKey(`${source}: empty (no ${KEY_FILE_TAG} tag)`);
  if (keys.length === 0) throw badKey(`${source}: holds no key`);
  return keys;
}

/**
 * Parses an `ENCSTREAM_KEY` value: `<id>:<64 hex digits>`, several separated by commas. The
 * first key is the one to seal with.
 *
 * @param source what to name in error messages.
 * @throws PacketError `"bad-key"` as {@link parseKeyFile}.
 */
export function parseKeyList(value: string, source = "ENCSTREAM_KEY"): StreamKey[] {
  if (typeof value !== "string") throw new TypeError("value must be a string");
  if (value.length > MAX_KEY_FILE_BYTES) throw badKey(`${source}: ${value.length} characters, too long`);
  const keys: StreamKey[] = [];
  const items = value.trim().split(",");
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!.trim();
    const colon = item.indexOf(":");
    const where = `${source}, key ${i + 1}`;
    if (colon < 0) throw badKey(`${where}: expected <id 0-255>:<64 hex digits>, found no colon`);
    addKey(keys, item.slice(0, colon), item.slice(colon + 1), where);
  }
  return keys;
}

/**
 * The text of a key file holding `keys` (the first is the one senders seal with); what
 * {@link parseKeyFile} reads back.
 *
 * @throws TypeError/RangeError naming the bad key (id not in 0–255 or repeated, key not 32 bytes).
 */
export function formatKeyFile(keys: readonly StreamKey[]): string {
  checkKeys(keys);
  const lines = [
    "# encstream key file: keep it secret (mode 0600). Senders seal with the first key;",
    "# receivers accept every key listed. Written by `encstream keygen`.",
    KEY_FILE_TAG,
    ...keys.map((k) => `key ${k.keyId} ${toHex(k.key)}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** The one-line `ENCSTREAM_KEY` form of `keys`; throws as {@link formatKeyFile}. */
export function formatKeyList(keys: readonly StreamKey[]): string {
  checkKeys(keys);
  return keys.map((k) => `${k.keyId}:${toHex(k.key)}`).join(",");
}

/**
 * A new random key (WebCrypto `getRandomValues`) with the given id, or a random one.
 *
 * @throws RangeError if `keyId` is not an integer in 0–255.
 */
export function generateKey(keyId: number = randomByte()): StreamKey {
  checkInteger("keyId", keyId, 0, 255);
  return { keyId, key: globalThis.crypto.getRandomValues(new Uint8Array(KEY_BYTES)) };
}

function addKey(keys: StreamKey[], id: string, hex: string, where: string): void {
  if (!KEY_ID.test(id) || Number(id) > 255) throw badKey(`${where}: key id must be an integer in 0-255, got ${JSON.stringify(clip(id))}`);
  const keyId = Number(id);
  if (keys.some((k) => k.keyId === keyId)) throw badKey(`${where}: key id ${keyId} appears twice`);
  if (!HEX_KEY.test(hex)) throw badKey(`${where}: the key must be 64 hex digits (32 bytes), got ${hex.length} characters`);
  if (keys.length >= MAX_KEYS) throw badKey(`${where}: more than ${MAX_KEYS} keys`);
  keys.push({ keyId, key: fromHex(hex) });
}

function checkKeys(keys: readonly StreamKey[]): void {
  if (!Array.isArray(keys) || keys.length === 0) throw new TypeError("keys must be a non-empty array");
  const ids = new Set<number>();
  keys.forEach((k, i) => {
    checkInteger(`keys[${i}].keyId`, k.keyId, 0, 255);
    if (ids.has(k.keyId)) throw new RangeError(`keys[${i}].keyId ${k.keyId} is repeated`);
    ids.add(k.keyId);
    checkKey(k.key, `keys[${i}].key`);
  });
}

function badKey(message: string): PacketError {
  return new PacketError("bad-key", message);
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function randomByte(): number {
  return globalThis.crypto.getRandomValues(new Uint8Array(1))[0]!;
}

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
