// The authenticated datagram ("sealed") format. A sealed datagram is the seed's 24-byte header,
// unchanged and in clear, then a 14-byte security header, then the payload encrypted with
// AES-256-GCM and its 16-byte tag:
//
// | offset | size | field        | type      | meaning                                              |
// |-------:|-----:|--------------|-----------|------------------------------------------------------|
// |      0 |   24 | seed header  | 6 × u32BE | as in wire-header.ts; total_length etc. count plaintext |
// |     24 |    1 | version      | u8        | 1                                                    |
// |     25 |    1 | key_id       | u8        | which key of the receiver's key ring sealed it      |
// |     26 |    8 | salt         | bytes     | random per sealer (per sender run), top bit of byte 26 clear |
// |     34 |    4 | counter      | u32BE     | 0, 1, 2, … per datagram sealed; never wraps           |
// |     38 |    n | ciphertext   | bytes     | the payload, AES-256-GCM                              |
// |  38+n |   16 | tag          | bytes     | GCM tag over bytes 0..37 (associated data) and the ciphertext |
//
// GCM nonce (12 bytes) = salt ‖ counter. Associated data = bytes 0..37: the seed header and the
// security header, so no header bit can change without the tag failing. The salt's top bit is
// the direction: clear here (sender → receiver), set in sealed feedback (receiver → sender, see
// feedback-sealer.ts), so the two directions never share a nonce under one key.

import { AUTH_TAG_BYTES, HEADER_BYTES, SECURE_HEADER_BYTES } from "../constants.js";

export const VERSION_OFFSET = HEADER_BYTES;
export const KEY_ID_OFFSET = HEADER_BYTES + 1;
export const SALT_OFFSET = HEADER_BYTES + 2;
export const SALT_BYTES = 8;
export const COUNTER_OFFSET = SALT_OFFSET + SALT_BYTES;
/** Where the ciphertext starts, and the length of the associated data. */
export const CIPHERTEXT_OFFSET = HEADER_BYTES + SECURE_HEADER_BYTES;
export const NONCE_BYTES = 12;
/** The smallest sealed datagram: headers and tag around an empty payload. */
export const MIN_SEALED_BYTES = CIPHERTEXT_OFFSET + AUTH_TAG_BYTES;
/** The salt's first byte's top bit: 0 for media datagrams, 1 for sealed feedback. */
export const SALT_DIRECTION_BIT = 0x80;
