/** Largest UDP payload in bytes over IPv4: 65 535 − 20 (IP header) − 8 (UDP header). */
export const MAX_UDP_PAYLOAD_IPV4_BYTES = 65_507;

/** Largest UDP payload in bytes over IPv6 without jumbograms: 65 535 − 8 (UDP header). */
export const MAX_UDP_PAYLOAD_IPV6_BYTES = 65_527;

/** Default number of datagrams a {@link UdpReceiver} holds for its async iterator. */
export const DEFAULT_MAX_QUEUE_DATAGRAMS = 1_024;

/**
 * Default largest `total_length` in bytes a {@link UdpReceiver} accepts in a header: 64 KiB,
 * the same as the `@encstream/packet` reassembler's default.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 65_536;

/** Default multicast time-to-live (IPv4) / hop limit (IPv6) in hops: stay on the local link. */
export const DEFAULT_MULTICAST_TTL_HOPS = 1;

/** Largest multicast time-to-live / hop limit in hops. */
export const MAX_MULTICAST_TTL_HOPS = 255;

/**
 * Default size in bytes a {@link UdpReceiver} asks for its kernel receive buffer (`SO_RCVBUF`):
 * 4 MiB, room for about 20 000 small datagrams, so bursts and floods are absorbed instead of
 * dropped by the kernel. Linux caps the request at `net.core.rmem_max` (often 208 KiB; raise it
 * with `sysctl -w net.core.rmem_max=4194304`); read back what was granted from
 * `UdpReceiver.receiveBufferBytes`.
 */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
