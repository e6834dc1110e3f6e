import { AUTH_TAG_BYTES } from "./constants.js";
import { checkKey } from "./internal/check-key.js";

/**
 * One AES-256-GCM key, ready to seal and open. {@link DatagramSealer} and
 * {@link DatagramOpener} use it; the default, {@link createWebCryptoAead}, runs on WebCrypto in
 * Node ≥ 20 and every browser. A faster synchronous one for Node (`node:crypto`) is
 * `createNodeAead` in `@encstream/transport-udp`. A method may return its result or a promise of it.
 */
export interface AeadCipher {
  /**
   * Encrypts `plaintext` under the 12-byte `nonce` with `aad` authenticated; returns the
   * ciphertext followed by the 16-byte tag, in a new buffer. The arguments are not kept.
   */
  encrypt(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /**
   * Opens `sealed` (ciphertext ‖ 16-byte tag): the plaintext in a new buffer, or `null` when
   * the tag does not verify (wrong key, altered bytes). Never throws for bad data.
   */
  decrypt(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null | Promise<Uint8Array | null>;
}

/** Makes an {@link AeadCipher} from a 32-byte raw key (the key bytes are not kept). */
export type AeadFactory = (key: Uint8Array) => AeadCipher | Promise<AeadCipher>;

/**
 * AES-256-GCM on WebCrypto (`globalThis.crypto.subtle`): the browser-safe default of
 * {@link DatagramSealer} and {@link DatagramOpener}. The key is imported non-extractable.
 *
 * @throws RangeError if `key` is not 32 bytes; TypeError if `key` is not a Uint8Array or
 *   WebCrypto is missing (an insecure browser context has no `crypto.subtle`).
 */
export async function createWebCryptoAead(key: Uint8Array): Promise<AeadCipher> {
  checkKey(key);
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) throw new TypeError("WebCrypto (globalThis.crypto.subtle) is not available");
  const cryptoKey = await subtle.importKey("raw", key.slice(), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  return {
    async encrypt(nonce, aad, plaintext) {
      const params = { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: AUTH_TAG_BYTES * 8 };
      return new Uint8Array(await subtle.encrypt(params, cryptoKey, ownBuffer(plaintext)));
    },
    async decrypt(nonce, aad, sealed) {
      if (sealed.length < AUTH_TAG_BYTES) return null;
      const params = { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: AUTH_TAG_BYTES * 8 };
      try {
        return new Uint8Array(await subtle.decrypt(params, cryptoKey, ownBuffer(sealed)));
      } catch {
        return null; // OperationError: the tag did not verify
      }
    },
  };
}

/** `bytes` typed as backed by an ArrayBuffer (what WebCrypto takes), copied if it is shared. */
function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
}
