export {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_QUEUE_DATAGRAMS,
  DEFAULT_RECEIVE_BUFFER_BYTES,
  DEFAULT_MULTICAST_TTL_HOPS,
  MAX_MULTICAST_TTL_HOPS,
  MAX_UDP_PAYLOAD_IPV4_BYTES,
  MAX_UDP_PAYLOAD_IPV6_BYTES,
} from "./constants.js";
export {
  TransportError,
  isTransportError,
  type TransportErrorCode,
  type TransportErrorOptions,
} from "./errors.js";
export type { IpFamily } from "./internal/check-options.js";
export type { OverflowPolicy } from "./internal/bounded-queue.js";
export type { ClockMs, SleepMs } from "./internal/pacer.js";
export {
  UdpSender,
  type PacingMode,
  type UdpSenderOptions,
  type UdpSenderStats,
} from "./udp-sender.js";
export {
  UdpReceiver,
  type ReceivedDatagram,
  type UdpReceiverOptions,
  type UdpReceiverStats,
} from "./udp-receiver.js";
export { createNodeAead } from "./node-aead.js";
export {
  UdpTransport,
  type UdpEndpoint,
  type UdpSendOutcome,
  type UdpTransportDatagram,
  type UdpTransportOptions,
  type UdpTransportStats,
} from "./udp-transport.js";
