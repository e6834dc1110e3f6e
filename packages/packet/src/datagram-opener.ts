import { createWebCryptoAead, type AeadCipher, type AeadFactory } from "./aead.js";
import {
  DEFAULT_MAX_TRACKED_SALTS,
  DEFAULT_REPLAY_WINDOW_DATAGRAMS,
  DEFAULT_RETIRED_SALTS,
  HEADER_BYTES,
  SECURE_FORMAT_VERSION,
  SECURE_OVERHEAD_BYTES,
} from "./constants.js";
import type { StreamKey } from "./key-file.js";
import { checkInteger } from "./internal/check-integer.js";
import { checkKey } from "./internal/check-key.js";
import { SaltReplayWindows } from "./internal/salt-windows.js";
import {
  CIPHERTEXT_OFFSET,
  COUNTER_OFFSET,
  KEY_ID_OFFSET,
  MIN_SEALED_BYTES,
  SALT_DIRECTION_BIT,
  SALT_OFFSET,
  VERSION_OFFSET,
} from "./internal/secure-header.js";
import { readU32BE } from "./internal/uint32-be.js";
import { isProblem, parseHeader } from "./internal/wire-header.js";

/** Options of {@link DatagramOpener.create}. */
export interface DatagramOpenerOptions {
  /** The keys accepted, by key id (a key ring: several allow rotation). At least one. */
  readonly keys: readonly StreamKey[];
  /**
   * Makes the AES-256-GCM cipher of each key.
   * @default createWebCryptoAead
   */
  readonly aead?: AeadFactory;
  /**
   * Width of each run's replay window, datagrams (a multiple of 32, ≥ 64). A datagram older than
   * this behind the newest one of its run is refused (`"too-old"`).
   * @default 1024 (`DEFAULT_REPLAY_WINDOW_DATAGRAMS`)
   */
  readonly replayWindowDatagrams?: number;
  /**
   * Runs (salts) whose replay windows are kept; a new run past this forgets the least recently
   * heard one. Windows are made only for datagrams that authenticated.
   * @default 16 (`DEFAULT_MAX_TRACKED_SALTS`)
   */
  readonly maxTrackedSalts?: number;
  /**
   * Forgotten runs still refused outright (a recording of one replayed later is `"replayed"`).
   * @default 4096 (`DEFAULT_RETIRED_SALTS`)
   */
  readonly retiredSalts?: number;
}

/**
 * Why {@link DatagramOpener.open} refused a datagram:
 * - `"malformed"`: too short, a seed header the decoder would reject, an unknown version, or a
 *   salt of the feedback direction (top bit set);
 * - `"unknown-key"`: a key id not in the key ring;
 * - `"replayed"`: a counter of its run already accepted, or a run forgotten;
 * - `"too-old"`: a counter behind its run's replay window;
 * - `"forged"`: the tag did not verify (altered bytes, wrong key, not sealed at all).
 */
export type OpenRejection = "malformed" | "unknown-key" | "replayed" | "too-old" | "forged";

/** What {@link DatagramOpener.open} made of a datagram. */
export type OpenResult =
  | {
      readonly status: "opened";
      /** The seed datagram (24-byte header + plaintext payload) in a new buffer, the caller's. */
      readonly datagram: Uint8Array;
      /** Key id that sealed it. */
      readonly keyId: number;
      /** The run salt in 16 lower-case hex digits: which sender run sealed it. */
      readonly salt: string;
      /** Its counter in that run. */
      readonly counter: number;
    }
  | { readonly status: "rejected"; readonly reason: OpenRejection };

/** Counters of a {@link DatagramOpener} since it was made. */
export interface DatagramOpenerStats {
  /** Datagrams that authenticated and were fresh. */
  readonly opened: number;
  /** Refused for each {@link OpenRejection}. */
  readonly malformed: number;
  readonly unknownKey: number;
  readonly replayed: number;
  readonly tooOld: number;
  readonly forged: number;
}

const REJECTED: Readonly<Record<OpenRejection, OpenResult>> = Object.freeze({
  malformed: Object.freeze({ status: "rejected", reason: "malformed" }),
  "unknown-key": Object.freeze({ status: "rejected", reason: "unknown-key" }),
  replayed: Object.freeze({ status: "rejected", reason: "replayed" }),
  "too-old": Object.freeze({ status: "rejected", reason: "too-old" }),
  forged: Object.freeze({ status: "rejected", reason: "forged" }),
});

/**
 * Opens sealed datagrams (see {@link DatagramSealer}) for a receiver: checks the seed header,
 * version and key id, refuses replays before spending a decryption (RFC 3711 §3.3.2), then
 * authenticates and decrypts. Only a datagram that authenticated moves a replay window or
 * creates one, so forgeries change no state. Never throws for bad bytes.
 */
export class DatagramOpener {
  readonly #ciphers: (AeadCipher | undefined)[];
  readonly #runs: SaltReplayWindows;
  #opened = 0;
  #malformed = 0;
  #unknownKey = 0;
  #replayed = 0;
  #tooOld = 0;
  #forged = 0;

  private constructor(ciphers: (AeadCipher | undefined)[], windowSize: number, maxSalts: number, retired: number) {
    this.#ciphers = ciphers;
    this.#runs = new SaltReplayWindows(windowSize, maxSalts, retired);
  }

  /**
   * An opener for `keys`.
   *
   * @throws TypeError/RangeError naming the bad option (no keys, a repeated key id, a key not
   *   32 bytes, a window size not a multiple of 32 in 64–1 048 576); what `aead` throws.
   */
  static async create(options: DatagramOpenerOptions): Promise<DatagramOpener> {
    const {
      keys,
      aead = createWebCryptoAead,
      replayWindowDatagrams = DEFAULT_REPLAY_WINDOW_DATAGRAMS,
      maxTrackedSalts = DEFAULT_MAX_TRACKED_SALTS,
      retiredSalts = DEFAULT_RETIRED_SALTS,
    } = options;
    if (!Array.isArray(keys) || keys.length === 0) throw new TypeError("keys must be a non-empty array of StreamKey");
    checkInteger("maxTrackedSalts", maxTrackedSalts, 1, 65_536);
    checkInteger("retiredSalts", retiredSalts, 0, 1 << 20);
    const ciphers = new Array<AeadCipher | undefined>(256).fill(undefined);
    for (const [i, k] of keys.entries()) {
      checkInteger(`keys[${i}].keyId`, k.keyId, 0, 255);
      checkKey(k.key, `keys[${i}].key`);
      if (ciphers[k.keyId] !== undefined) throw new RangeError(`keys[${i}].keyId ${k.keyId} is repeated`);
      ciphers[k.keyId] = await aead(k.key);
    }
    return new DatagramOpener(ciphers, replayWindowDatagrams, maxTrackedSalts, retiredSalts);
  }

  /** A snapshot of the counters. */
  get stats(): DatagramOpenerStats {
    return {
      opened: this.#opened,
      malformed: this.#malformed,
      unknownKey: this.#unknownKey,
      replayed: this.#replayed,
      tooOld: this.#tooOld,
      forged: this.#forged,
    };
  }

  /**
   * Checks, authenticates and decrypts one sealed datagram. The datagram is read during the
   * call and not kept. Datagrams may be opened concurrently: a replay racing its original is
   * still refused (the window is checked again once the tag has verified).
   *
   * @throws TypeError if `datagram` is not a Uint8Array (never for bad contents).
   */
  async open(datagram: Uint8Array): Promise<OpenResult> {
    if (!(datagram instanceof Uint8Array)) throw new TypeError("datagram must be a Uint8Array");
    if (datagram.length < MIN_SEALED_BYTES || datagram[VERSION_OFFSET] !== SECURE_FORMAT_VERSION) return this.#reject("malformed");
    if ((datagram[SALT_OFFSET]! & SALT_DIRECTION_BIT) !== 0) return this.#reject("malformed"); // a feedback nonce
    const plainBytes = datagram.length - HEADER_BYTES - SECURE_OVERHEAD_BYTES;
    if (isProblem(parseHeader(datagram, plainBytes))) return this.#reject("malformed");
    const keyId = datagram[KEY_ID_OFFSET]!;
    const cipher = this.#ciphers[keyId];
    if (cipher === undefined) return this.#reject("unknown-key");
    const salt = saltHex(datagram);
    const counter = readU32BE(datagram, COUNTER_OFFSET);
    const early = this.#runs.verdict(salt, counter);
    if (early !== undefined) return this.#reject(early);

    // Copies: the caller may reuse `datagram` while an asynchronous cipher works.
    const aad = datagram.slice(0, CIPHERTEXT_OFFSET);
    const nonce = aad.subarray(SALT_OFFSET, CIPHERTEXT_OFFSET);
    const plain = await cipher.decrypt(nonce, aad, datagram.slice(CIPHERTEXT_OFFSET));
    if (plain === null || plain.length !== plainBytes) return this.#reject("forged");

    const late = this.#runs.verdict(salt, counter);
    if (late !== undefined) return this.#reject(late);
    this.#runs.accept(salt, counter);
    this.#opened++;
    const out = new Uint8Array(HEADER_BYTES + plainBytes);
    out.set(aad.subarray(0, HEADER_BYTES), 0);
    out.set(plain, HEADER_BYTES);
    return { status: "opened", datagram: out, keyId, salt, counter };
  }

  #reject(reason: OpenRejection): OpenResult {
    switch (reason) {
      case "malformed":
        this.#malformed++;
        break;
      case "unknown-key":
        this.#unknownKey++;
        break;
      case "replayed":
        this.#replayed++;
        break;
      case "too-old":
        this.#tooOld++;
        break;
      case "forged":
        this.#forged++;
        break;
    }
    return REJECTED[reason];
  }
}

function saltHex(datagram: Uint8Array): string {
  const hi = readU32BE(datagram, SALT_OFFSET);
  const lo = readU32BE(datagram, SALT_OFFSET + 4);
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}
