// Shared by the socket tests: feature detection, bounded waiting and a packet maker.
import { createSocket, type SocketType } from "node:dgram";
import { encodePacket } from "@encstream/packet";

/**
 * Whether a `type` socket can bind `address` on this host (e.g. no IPv6 loopback in some
 * containers). Detected at run time, so a test skips only where the host really lacks it.
 */
export async function canBind(type: SocketType, address: string): Promise<boolean> {
  const socket = createSocket(type);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, address, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** Polls `condition` every 5 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 2_000, what = "condition"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A valid single-fragment datagram for frame `seq` whose payload is `payloadBytes` bytes of `seq & 0xff`. */
export function packetOf(seq: number, payloadBytes = 8): Uint8Array {
  return encodePacket(
    { seqNum: seq, totalLength: payloadBytes, hasOverlap: false, fragId: seq, totalFrags: 1, fragIndex: 0 },
    new Uint8Array(payloadBytes).fill(seq & 0xff),
  );
}

/** A port on `address` that nothing listens on right now (bound, then released). */
export async function closedPort(type: SocketType, address: string): Promise<number> {
  const socket = createSocket(type);
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
