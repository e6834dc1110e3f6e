import { FRAG_COUNTER_MODULUS, STREAM_ID_BITS } from "./constants.js";

/*
 * How the sender fills the wire header's `frag_id` (the seed leaves its value to the sender; the
 * packet package only needs it unique among recent messages):
 *
 * | bits | meaning |
 * |---|---|
 * | 31–16 | stream id: random per `send` run (1 to 65535), the same in every datagram of the run |
 * | 15–0 | message counter: 0, 1, 2, … per message sent (wraps at 65536) |
 *
 * The receiver reads the stream id from every datagram without parsing any payload, so a
 * sender that restarts (a new run picks a new id, its sequence numbers start at 0 again) is
 * told apart from a late packet of the old run. Repeats of a message reuse its `frag_id`, so
 * the reassembler sees them as duplicates of the same message.
 */

/**
 * A random stream id in [1, 65535], from `crypto.getRandomValues` (Node 20 and every browser):
 * uniform, 0 excluded by drawing again.
 */
export function randomStreamId(): number {
  const draw = new Uint16Array(1);
  do globalThis.crypto.getRandomValues(draw);
  while (draw[0] === 0);
  return draw[0] as number;
}

/** The `frag_id` of message `counter` of stream `streamId`. */
export function makeFragId(streamId: number, counter: number): number {
  return ((streamId << STREAM_ID_BITS) | (counter % FRAG_COUNTER_MODULUS)) >>> 0;
}

/** The stream id a `frag_id` carries. */
export function streamIdOf(fragId: number): number {
  return fragId >>> STREAM_ID_BITS;
}

/**
 * The stream id of track `trackId` of a multi-track run whose track 0 has stream id `baseStreamId`:
 * `baseStreamId + trackId`, wrapping within [1, 65535]. Every track of a run is its own stream
 * (its own `frag_id` stream id and message counter, its own seq space from 0); this relation lets
 * a receiver tell which streams belong to one run.
 *
 * @throws RangeError for a base outside [1, 65535] or a track id outside [0, 255]
 */
export function trackStreamId(baseStreamId: number, trackId: number): number {
  if (!Number.isInteger(baseStreamId) || baseStreamId < 1 || baseStreamId > 0xffff) throw new RangeError(`baseStreamId must be an integer in [1, 65535], got ${baseStreamId}`);
  if (!Number.isInteger(trackId) || trackId < 0 || trackId > 255) throw new RangeError(`trackId must be an integer in [0, 255], got ${trackId}`);
  return ((baseStreamId - 1 + trackId) % 0xffff) + 1;
}
