// Benchmarks for @encstream/packet: `npx tsx bench/run.ts` (or `pnpm bench`).
//
// Each case runs against a baseline measured in the same process, same inputs:
// - header encode+decode: ours is encodeInto() into one preallocated buffer, then decodePacket()
//   (header object + payload view). The baseline is the naive codec most code starts with:
//   allocate a Uint8Array and a DataView per encode, six setUint32 calls, and on decode a new
//   DataView, six getUint32 calls and a payload copy (slice). It validates nothing, so the
//   comparison flatters it.
// - split + reassembly: ours is splitIntoFragments() + Reassembler.push() for every fragment.
//   The baseline cuts the frame with slice() into per-fragment datagrams (a DataView each), and
//   reassembles by keeping a copy of each fragment in a Map, concatenating when all have
//   arrived; it checks only that the fragment count matches.
// Timing goals belong here, never in tests. Figures vary with the machine and its load.
import {
  decodePacket,
  encodeInto,
  encodedLength,
  HEADER_BYTES,
  Reassembler,
  splitIntoFragments,
  type PacketHeader,
} from "../src/index.js";

const ROUNDS = 5;
const ROUND_MS = 400;
let sink = 0;

/** Best ops/s over ROUNDS rounds of about ROUND_MS each; `op` does `batch` operations. */
function measure(op: () => void, batch: number): number {
  for (let i = 0; i < 2_000; i++) op(); // warm up the JIT
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let ops = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < ROUND_MS) {
      for (let i = 0; i < 100; i++) op();
      ops += 100 * batch;
      elapsed = performance.now() - start;
    }
    best = Math.max(best, (ops * 1_000) / elapsed);
  }
  return best;
}

function format(opsPerSecond: number): string {
  return opsPerSecond >= 1e6 ? `${(opsPerSecond / 1e6).toFixed(2)} M/s` : `${(opsPerSecond / 1e3).toFixed(1)} k/s`;
}

function report(name: string, ours: number, baseline: number, extra = ""): void {
  console.log(
    `${name.padEnd(44)} ours ${format(ours).padStart(10)}   baseline ${format(baseline).padStart(10)}   ratio ${(ours / baseline).toFixed(2)}x${extra}`,
  );
}

// --- the naive baseline codec -------------------------------------------------------------

function naiveEncode(h: PacketHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(24 + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, h.seqNum);
  view.setUint32(4, h.totalLength);
  view.setUint32(8, h.hasOverlap ? 1 : 0);
  view.setUint32(12, h.fragId);
  view.setUint32(16, h.totalFrags);
  view.setUint32(20, h.fragIndex);
  out.set(payload, 24);
  return out;
}

function naiveDecode(bytes: Uint8Array): { header: PacketHeader; payload: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    header: {
      seqNum: view.getUint32(0),
      totalLength: view.getUint32(4),
      hasOverlap: view.getUint32(8) === 1,
      fragId: view.getUint32(12),
      totalFrags: view.getUint32(16),
      fragIndex: view.getUint32(20),
    },
    payload: bytes.slice(24),
  };
}

function naiveSplit(frame: Uint8Array, seq: number, fragId: number, mtuBytes: number): Uint8Array[] {
  const chunk = mtuBytes - 24;
  const count = Math.max(1, Math.ceil(frame.length / chunk));
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const header = { seqNum: seq, totalLength: frame.length, hasOverlap: false, fragId, totalFrags: count, fragIndex: i };
    out.push(naiveEncode(header, frame.slice(i * chunk, (i + 1) * chunk)));
  }
  return out;
}

class NaiveReassembler {
  readonly #parts = new Map<number, { parts: (Uint8Array | undefined)[]; have: number }>();
  push(datagram: Uint8Array): Uint8Array | null {
    const { header, payload } = naiveDecode(datagram);
    let entry = this.#parts.get(header.fragId);
    if (entry === undefined) {
      entry = { parts: new Array<Uint8Array | undefined>(header.totalFrags).fill(undefined), have: 0 };
      this.#parts.set(header.fragId, entry);
    }
    if (entry.parts.length !== header.totalFrags) return null;
    if (entry.parts[header.fragIndex] === undefined) entry.have++;
    entry.parts[header.fragIndex] = payload;
    if (entry.have < header.totalFrags) return null;
    this.#parts.delete(header.fragId);
    const out = new Uint8Array(header.totalLength);
    let at = 0;
    for (const p of entry.parts as Uint8Array[]) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

// --- cases --------------------------------------------------------------------------------

function headerCase(payloadBytes: number): void {
  const payload = Uint8Array.from({ length: payloadBytes }, (_, i) => i & 0xff);
  const header: PacketHeader = { seqNum: 0, totalLength: payloadBytes, hasOverlap: true, fragId: 0, totalFrags: 1, fragIndex: 0 };
  const mutable = header as { -readonly [K in keyof PacketHeader]: PacketHeader[K] };
  const target = new Uint8Array(encodedLength(payloadBytes));
  const ours = measure(() => {
    mutable.seqNum = (mutable.seqNum + 1) >>> 0;
    const n = encodeInto(target, 0, header, payload);
    sink += decodePacket(n === target.length ? target : target.subarray(0, n)).header.seqNum;
  }, 1);
  const baseline = measure(() => {
    mutable.seqNum = (mutable.seqNum + 1) >>> 0;
    sink += naiveDecode(naiveEncode(header, payload)).header.seqNum;
  }, 1);
  report(`header encode+decode, ${payloadBytes}-byte payload`, ours, baseline);
}

function splitCase(frameBytes: number): void {
  const frame = Uint8Array.from({ length: frameBytes }, (_, i) => (i * 31) & 0xff);
  const fragments = splitIntoFragments(frame, { seq: 0, fragId: 0 }).length;
  let fragId = 0;
  const reassembler = new Reassembler({ maxAgeMs: Number.POSITIVE_INFINITY });
  const ours = measure(() => {
    fragId = (fragId + 1) >>> 0;
    for (const datagram of splitIntoFragments(frame, { seq: fragId, fragId })) {
      const result = reassembler.push(datagram, 0);
      if (result.status === "complete") sink += result.message.payload.length;
    }
  }, 1);
  const naive = new NaiveReassembler();
  const baseline = measure(() => {
    fragId = (fragId + 1) >>> 0;
    for (const datagram of naiveSplit(frame, fragId, fragId, 220)) {
      const out = naive.push(datagram);
      if (out !== null) sink += out.length;
    }
  }, 1);
  const mbPerSecond = (ours * frameBytes) / 1e6;
  report(
    `split+reassemble ${frameBytes}-byte frame (${fragments} frag${fragments === 1 ? "" : "s"})`,
    ours,
    baseline,
    `   (${mbPerSecond.toFixed(0)} MB/s of frames)`,
  );
}

console.log(`@encstream/packet bench: node ${process.version}, best of ${ROUNDS} x ${ROUND_MS} ms; header ${HEADER_BYTES} B, MTU 220`);
headerCase(0);
headerCase(10);
headerCase(196);
splitCase(10);
splitCase(1_500);
splitCase(16_000);
if (sink === 42) console.log(""); // keep results observable to the JIT
