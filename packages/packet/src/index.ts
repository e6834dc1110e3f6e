export {
  DEFAULT_COMPLETED_HISTORY,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_PENDING_MESSAGES,
  DEFAULT_MAX_PENDING_PER_SOURCE,
  DEFAULT_NEAR_SEQ_WINDOW,
  DEFAULT_MTU_BYTES,
  HEADER_BYTES,
  MAX_UINT32,
  AUTH_TAG_BYTES,
  DEFAULT_MAX_TRACKED_SALTS,
  DEFAULT_REPLAY_WINDOW_DATAGRAMS,
  DEFAULT_RETIRED_SALTS,
  KEY_BYTES,
  MAX_FEEDBACK_BYTES,
  MAX_SEALED_DATAGRAMS,
  SECURE_FORMAT_VERSION,
  SECURE_HEADER_BYTES,
  SECURE_OVERHEAD_BYTES,
} from "./constants.js";
export { createWebCryptoAead, type AeadCipher, type AeadFactory } from "./aead.js";
export { DatagramSealer, sealedLength, type DatagramSealerOptions } from "./datagram-sealer.js";
export {
  DatagramOpener,
  type DatagramOpenerOptions,
  type DatagramOpenerStats,
  type OpenRejection,
  type OpenResult,
} from "./datagram-opener.js";
export {
  FEEDBACK_HEADER_BYTES,
  FEEDBACK_OVERHEAD_BYTES,
  FeedbackOpener,
  FeedbackSealer,
  type FeedbackOpenResult,
  type FeedbackOpenerOptions,
  type FeedbackRejection,
  type FeedbackSealerOptions,
} from "./feedback-sealer.js";
export {
  formatKeyFile,
  formatKeyList,
  generateKey,
  KEY_FILE_TAG,
  MAX_KEY_FILE_BYTES,
  MAX_KEYS,
  parseKeyFile,
  parseKeyList,
  type StreamKey,
} from "./key-file.js";
export { ReplayWindow, type ReplayVerdict } from "./replay-window.js";
export { PacketError, isPacketError, type PacketErrorCode } from "./errors.js";
export {
  decodePacket,
  decodeSealedHeader,
  encodeInto,
  encodePacket,
  encodedLength,
  type DecodedPacket,
  type PacketHeader,
} from "./packet-header.js";
export { countFragments, splitIntoFragments, type SplitOptions } from "./fragmenter.js";
export {
  Reassembler,
  type PushResult,
  type ReassembledMessage,
  type ReassemblerOptions,
  type ReassemblerStats,
} from "./reassembler.js";
