import { createWebCryptoAead, type AeadCipher, type AeadFactory } from "./aead.js";
import { AUTH_TAG_BYTES, DEFAULT_REPLAY_WINDOW_DATAGRAMS, MAX_FEEDBACK_BYTES, MAX_SEALED_DATAGRAMS } from "./constants.js";
import type { StreamKey } from "./key-file.js";
import { checkInteger } from "./internal/check-integer.js";
import { checkKey } from "./internal/check-key.js";
import { SaltReplayWindows } from "./internal/salt-windows.js";
import { SALT_BYTES, SALT_DIRECTION_BIT } from "./internal/secure-header.js";
import { readU32BE, writeU32BE } from "./internal/uint32-be.js";

/*
 * Sealed feedback: what a receiver sends back to its sender (receiver reports) when the stream
 * is keyed. Its own small format, not a seed datagram. All integers big-endian:
 *
 * | offset | size | field      | meaning                                                           |
 * |-------:|-----:|------------|-------------------------------------------------------------------|
 * |      0 |    2 | magic      | 0x45 0x46 ("EF")                                                  |
 * |      2 |    1 | version    | 1                                                                 |
 * |      3 |    1 | key_id     | which key sealed it                                               |
 * |      4 |    8 | salt       | random per sealer (per receiver run), the top bit of byte 4 SET   |
 * |     12 |    4 | counter    | 0, 1, 2, … per message sealed; never wraps                        |
 * |     16 |    n | ciphertext | the message (1–1024 bytes), AES-256-GCM                           |
 * |   16+n |   16 | tag        | over bytes 0..15 (associated data) and the ciphertext             |
 *
 * Nonce = salt ‖ counter (bytes 4..15), as for media datagrams, whose salts have the top bit
 * CLEAR: the two directions draw nonces from disjoint halves, so a receiver and a sender sharing
 * a key can never use the same nonce, whatever their random salts.
 */

const MAGIC_0 = 0x45;
const MAGIC_1 = 0x46;
const VERSION = 1;
const SALT_OFFSET = 4;
const COUNTER_OFFSET = 12;
/** Bytes before the ciphertext: the associated data. */
export const FEEDBACK_HEADER_BYTES = 16;
/** Bytes a sealed feedback message adds to its plaintext: header and tag. */
export const FEEDBACK_OVERHEAD_BYTES = FEEDBACK_HEADER_BYTES + AUTH_TAG_BYTES;
/** Feedback runs (receiver salts) whose replay windows a {@link FeedbackOpener} keeps. */
const TRACKED_SALTS = 4;
const RETIRED_SALTS = 256;

/** Options of {@link FeedbackSealer.create}. */
export interface FeedbackSealerOptions {
  /** The keys it may seal with (a receiver's key ring); {@link FeedbackSealer.seal} picks one by id. At least one. */
  readonly keys: readonly StreamKey[];
  /** Makes the AES-256-GCM cipher of each key. @default createWebCryptoAead */
  readonly aead?: AeadFactory;
  /**
   * The 8-byte run salt; its top bit is set by the sealer (the feedback direction). Leave it
   * random: for test fixtures only.
   * @default 8 random bytes (WebCrypto `getRandomValues`)
   */
  readonly salt?: Uint8Array;
}

/**
 * Seals feedback messages (receiver reports) for one receiver run: header in clear, message
 * encrypted with AES-256-GCM under salt ‖ counter, the tag covering the header. Its nonces never
 * meet a media sealer's (see the format above).
 */
export class FeedbackSealer {
  readonly #ciphers: ReadonlyMap<number, AeadCipher>;
  readonly #defaultKeyId: number;
  readonly #salt: Uint8Array;
  #counter = 0;

  private constructor(ciphers: ReadonlyMap<number, AeadCipher>, defaultKeyId: number, salt: Uint8Array) {
    this.#ciphers = ciphers;
    this.#defaultKeyId = defaultKeyId;
    this.#salt = salt;
  }

  /**
   * A sealer with a new run salt.
   *
   * @throws TypeError/RangeError naming the bad option (no keys, a repeated key id, a key not
   *   32 bytes, a salt not 8 bytes); what `aead` throws.
   */
  static async create(options: FeedbackSealerOptions): Promise<FeedbackSealer> {
    const { keys, aead = createWebCryptoAead } = options;
    const ciphers = await ciphersOf(keys, aead);
    const salt = options.salt?.slice() ?? globalThis.crypto.getRandomValues(new Uint8Array(SALT_BYTES));
    if (!(salt instanceof Uint8Array) || salt.length !== SALT_BYTES) throw new RangeError(`salt must be ${SALT_BYTES} bytes, got ${String(salt?.length)}`);
    salt[0]! |= SALT_DIRECTION_BIT;
    return new FeedbackSealer(ciphers, keys[0]!.keyId, salt);
  }

  /** Messages sealed so far (the next counter). */
  get sealed(): number {
    return this.#counter;
  }

  /**
   * Seals `message` (1–1024 bytes, read during the call only) with key `keyId` (a key of the
   * ring; by default the first) into a new buffer of `message.length + 32` bytes.
   *
   * @throws TypeError if `message` is not a Uint8Array; RangeError for a length out of range, a
   *   key id not in the ring, or after 2^32 messages.
   */
  async seal(message: Uint8Array, keyId: number = this.#defaultKeyId): Promise<Uint8Array> {
    if (!(message instanceof Uint8Array)) throw new TypeError("message must be a Uint8Array");
    checkInteger("message.length", message.length, 1, MAX_FEEDBACK_BYTES);
    const cipher = this.#ciphers.get(keyId);
    if (cipher === undefined) throw new RangeError(`keyId must be one of the sealer's keys (${[...this.#ciphers.keys()].join(", ")}), got ${keyId}`);
    if (this.#counter >= MAX_SEALED_DATAGRAMS) throw new RangeError("this sealer has sealed 2^32 messages; make a new one (a new salt) to go on");
    const counter = this.#counter++;
    const out = new Uint8Array(FEEDBACK_OVERHEAD_BYTES + message.length);
    out[0] = MAGIC_0;
    out[1] = MAGIC_1;
    out[2] = VERSION;
    out[3] = keyId;
    out.set(this.#salt, SALT_OFFSET);
    writeU32BE(out, COUNTER_OFFSET, counter);
    const aad = out.subarray(0, FEEDBACK_HEADER_BYTES);
    const sealed = await cipher.encrypt(out.subarray(SALT_OFFSET, FEEDBACK_HEADER_BYTES), aad, message);
    out.set(sealed, FEEDBACK_HEADER_BYTES);
    return out;
  }
}

/** Why {@link FeedbackOpener.open} refused bytes: as for media datagrams (see `OpenRejection`). */
export type FeedbackRejection = "malformed" | "unknown-key" | "replayed" | "too-old" | "forged";

/** What {@link FeedbackOpener.open} made of a datagram. */
export type FeedbackOpenResult =
  | { readonly status: "opened"; /** The message, a new buffer. */ readonly message: Uint8Array; readonly keyId: number }
  | { readonly status: "rejected"; readonly reason: FeedbackRejection };

/** Options of {@link FeedbackOpener.create}. */
export interface FeedbackOpenerOptions {
  /** The keys accepted, by key id. At least one. */
  readonly keys: readonly StreamKey[];
  /** Makes the AES-256-GCM cipher of each key. @default createWebCryptoAead */
  readonly aead?: AeadFactory;
}

/**
 * Opens sealed feedback (see {@link FeedbackSealer}) for a sender: checks magic, version, key
 * id and direction, refuses replays (a window per receiver run, RFC 3711 §3.3.2), then
 * authenticates and decrypts. Only authenticated messages change its state; never throws for
 * bad bytes.
 */
export class FeedbackOpener {
  readonly #ciphers: ReadonlyMap<number, AeadCipher>;
  readonly #runs = new SaltReplayWindows(DEFAULT_REPLAY_WINDOW_DATAGRAMS, TRACKED_SALTS, RETIRED_SALTS);
  #opened = 0;
  #rejected = 0;

  private constructor(ciphers: ReadonlyMap<number, AeadCipher>) {
    this.#ciphers = ciphers;
  }

  /**
   * An opener for `keys`.
   *
   * @throws TypeError/RangeError naming the bad option (no keys, a repeated key id, a key not
   *   32 bytes); what `aead` throws.
   */
  static async create(options: FeedbackOpenerOptions): Promise<FeedbackOpener> {
    return new FeedbackOpener(await ciphersOf(options.keys, options.aead ?? createWebCryptoAead));
  }

  /** Messages opened, and datagrams refused, so far. */
  get stats(): { readonly opened: number; readonly rejected: number } {
    return { opened: this.#opened, rejected: this.#rejected };
  }

  /**
   * Checks, authenticates and decrypts one datagram (read during the call, not kept).
   *
   * @throws TypeError if `datagram` is not a Uint8Array (never for bad contents).
   */
  async open(datagram: Uint8Array): Promise<FeedbackOpenResult> {
    if (!(datagram instanceof Uint8Array)) throw new TypeError("datagram must be a Uint8Array");
    const n = datagram.length - FEEDBACK_OVERHEAD_BYTES;
    if (n < 1 || n > MAX_FEEDBACK_BYTES || datagram[0] !== MAGIC_0 || datagram[1] !== MAGIC_1 || datagram[2] !== VERSION) return this.#reject("malformed");
    if ((datagram[SALT_OFFSET]! & SALT_DIRECTION_BIT) === 0) return this.#reject("malformed"); // a media nonce
    const keyId = datagram[3]!;
    const cipher = this.#ciphers.get(keyId);
    if (cipher === undefined) return this.#reject("unknown-key");
    const salt = `${readU32BE(datagram, SALT_OFFSET).toString(16)}:${readU32BE(datagram, SALT_OFFSET + 4).toString(16)}`;
    const counter = readU32BE(datagram, COUNTER_OFFSET);
    const early = this.#runs.verdict(salt, counter);
    if (early !== undefined) return this.#reject(early);
    const aad = datagram.slice(0, FEEDBACK_HEADER_BYTES);
    const plain = await cipher.decrypt(aad.subarray(SALT_OFFSET), aad, datagram.slice(FEEDBACK_HEADER_BYTES));
    if (plain === null || plain.length !== n) return this.#reject("forged");
    const late = this.#runs.verdict(salt, counter);
    if (late !== undefined) return this.#reject(late);
    this.#runs.accept(salt, counter);
    this.#opened++;
    return { status: "opened", message: plain, keyId };
  }

  #reject(reason: FeedbackRejection): FeedbackOpenResult {
    this.#rejected++;
    return { status: "rejected", reason };
  }
}

async function ciphersOf(keys: readonly StreamKey[], aead: AeadFactory): Promise<Map<number, AeadCipher>> {
  if (!Array.isArray(keys) || keys.length === 0) throw new TypeError("keys must be a non-empty array of StreamKey");
  const ciphers = new Map<number, AeadCipher>();
  for (const [i, k] of keys.entries()) {
    checkInteger(`keys[${i}].keyId`, k.keyId, 0, 255);
    checkKey(k.key, `keys[${i}].key`);
    if (ciphers.has(k.keyId)) throw new RangeError(`keys[${i}].keyId ${k.keyId} is repeated`);
    ciphers.set(k.keyId, await aead(k.key));
  }
  return ciphers;
}
