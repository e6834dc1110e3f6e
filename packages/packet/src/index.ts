export {
  DEFAULT_COMPLETED_HISTORY,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_PENDING_MESSAGES,
  DEFAULT_MTU_BYTES,
  HEADER_BYTES,
  MAX_UINT32,
} from "./constants.js";
export { PacketError, isPacketError, type PacketErrorCode } from "./errors.js";
export {
  decodePacket,
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
