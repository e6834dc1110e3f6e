import { createWebCryptoAead, type AeadCipher, type AeadFactory } from "./aead.js";
import { HEADER_BYTES, MAX_SEALED_DATAGRAMS, SECURE_FORMAT_VERSION, SECURE_OVERHEAD_BYTES } from "./constants.js";
import type { StreamKey } from "./key-file.js";
import { checkInteger } from "./internal/check-integer.js";
import { checkKey } from "./internal/check-key.js";
import {
  CIPHERTEXT_OFFSET,
  COUNTER_OFFSET,
  KEY_ID_OFFSET,
  SALT_BYTES,
  SALT_DIRECTION_BIT,
  SALT_OFFSET,
  VERSION_OFFSET,
} from "./internal/secure-header.js";
import { writeU32BE } from "./internal/uint32-be.js";
import { isProblem, parseHeader } from "./internal/wire-header.js";

/** Options of {@link DatagramSealer.create}. */
export interface DatagramSealerOptions {
  /** The key to seal with (its id is written in every datagram). */
  readonly key: StreamKey;
  /**
   * Makes the AES-256-GCM cipher.
   * @default createWebCryptoAead
   */
  readonly aead?: AeadFactory;
  /**
   * The 8-byte run salt, the first 8 bytes of every nonce, its top bit clear (the set half
   * belongs to sealed feedback, see `FeedbackSealer`). Leave it random: a fixed salt reused
   * with the same key repeats nonces. For test fixtures only.
   * @default 8 random bytes (WebCrypto `getRandomValues`)
   */
  readonly salt?: Uint8Array;
}

/**
 * Seals datagrams for one sender run (see the README's "Authenticated datagrams"): the seed
 * header stays in clear, the payload is encrypted with AES-256-GCM under the nonce
 * salt ‖ counter, and the tag covers both headers. The salt is random per sealer and the counter
 * counts every datagram sealed, so a nonce is never used twice under a key as long as no two
 * sealers draw the same salt (probability below R² / 2^65 for R sealers per key).
 */
export class DatagramSealer {
  readonly #aead: AeadCipher;
  readonly #keyId: number;
  readonly #salt: Uint8Array;
  #counter = 0;

  private constructor(aead: AeadCipher, keyId: number, salt: Uint8Array) {
    this.#aead = aead;
    this.#keyId = keyId;
    this.#salt = salt;
  }

  /**
   * A sealer with a new run salt.
   *
   * @throws TypeError/RangeError for a key that is not 32 bytes, a key id not in 0–255, a salt
   *   that is not 8 bytes or has its top bit set; what the `aead` factory throws.
   */
  static async create(options: DatagramSealerOptions): Promise<DatagramSealer> {
    const { key, aead = createWebCryptoAead } = options;
    if (typeof key !== "object" || key === null) throw new TypeError("key must be a StreamKey");
    checkInteger("key.keyId", key.keyId, 0, 255);
    checkKey(key.key, "key.key");
    const salt = options.salt?.slice() ?? globalThis.crypto.getRandomValues(new Uint8Array(SALT_BYTES));
    if (!(salt instanceof Uint8Array) || salt.length !== SALT_BYTES) {
      throw new RangeError(`salt must be ${SALT_BYTES} bytes, got ${String(salt?.length)}`);
    }
    if (options.salt === undefined) salt[0]! &= ~SALT_DIRECTION_BIT;
    else if ((salt[0]! & SALT_DIRECTION_BIT) !== 0) throw new RangeError("salt must have the top bit of its first byte clear (the set half is the feedback direction's)");
    return new DatagramSealer(await aead(key.key), key.keyId, salt);
  }

  /** The run salt (a copy). */
  get salt(): Uint8Array {
    return this.#salt.slice();
  }

  /** Datagrams sealed so far (the next counter). */
  get sealed(): number {
    return this.#counter;
  }

  /**
   * Seals one seed datagram (24-byte header + payload, as `splitIntoFragments` makes) into a
   * new buffer of `datagram.length + 30` bytes. The counter is taken at the call, so datagrams
   * may be sealed concurrently; `datagram` is read during the call only.
   *
   * @throws TypeError if `datagram` is not a Uint8Array; RangeError if it is not a valid seed
   *   datagram, or after 2^32 datagrams (make a new sealer: a new salt).
   */
  async seal(datagram: Uint8Array): Promise<Uint8Array> {
    if (!(datagram instanceof Uint8Array)) throw new TypeError("datagram must be a Uint8Array");
    const header = parseHeader(datagram);
    if (isProblem(header)) throw new RangeError(`datagram must be a valid seed datagram: ${header[1]}`);
    if (this.#counter >= MAX_SEALED_DATAGRAMS) {
      throw new RangeError("this sealer has sealed 2^32 datagrams; make a new one (a new salt) to go on");
    }
    const counter = this.#counter++;
    const out = new Uint8Array(datagram.length + SECURE_OVERHEAD_BYTES);
    out.set(datagram.subarray(0, HEADER_BYTES), 0);
    out[VERSION_OFFSET] = SECURE_FORMAT_VERSION;
    out[KEY_ID_OFFSET] = this.#keyId;
    out.set(this.#salt, SALT_OFFSET);
    writeU32BE(out, COUNTER_OFFSET, counter);
    const aad = out.subarray(0, CIPHERTEXT_OFFSET);
    const nonce = out.subarray(SALT_OFFSET, CIPHERTEXT_OFFSET);
    const sealed = await this.#aead.encrypt(nonce, aad, datagram.subarray(HEADER_BYTES));
    out.set(sealed, CIPHERTEXT_OFFSET);
    return out;
  }
}

/**
 * Bytes of a sealed datagram whose seed datagram is `datagramBytes` long: `datagramBytes + 30`.
 *
 * @throws RangeError if `datagramBytes` is not an integer ≥ 24.
 */
export function sealedLength(datagramBytes: number): number {
  checkInteger("datagramBytes", datagramBytes, HEADER_BYTES, Number.MAX_SAFE_INTEGER - SECURE_OVERHEAD_BYTES);
  return datagramBytes + SECURE_OVERHEAD_BYTES;
}
