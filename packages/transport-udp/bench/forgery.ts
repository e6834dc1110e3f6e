// 1 000 000 forged, replayed and altered sealed datagrams against a DatagramOpener that has
// accepted a real stream: every try must be refused (the process exits 1 otherwise). Measured
// with createNodeAead (what `encstream receive` uses) and, for 50 000 tries, WebCrypto (the
// browser-safe default), so the two rates compare in the same run.
//
//   npx tsx bench/forgery.ts            (from packages/transport-udp, after a build of ../packet)
import {
  createWebCryptoAead,
  DatagramOpener,
  DatagramSealer,
  splitIntoFragments,
  type AeadFactory,
  type StreamKey,
} from "@encstream/packet";
import { createNodeAead } from "../src/index.js";

const KEY: StreamKey = { keyId: 5, key: Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff) };
const WRONG: StreamKey = { keyId: 5, key: Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 7) & 0xff) };
const REAL_DATAGRAMS = 2_000;
const KINDS = ["bit-flip", "truncated", "extended", "replayed", "wrong-key", "counter-moved", "header-altered", "random-tail"] as const;
type Kind = (typeof KINDS)[number];

/** mulberry32: a seeded PRNG giving uint32s. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

async function run(aead: AeadFactory, tries: number, label: string): Promise<boolean> {
  const next = prng(0xf0_4ce5);
  const sealer = await DatagramSealer.create({ key: KEY, aead });
  const stranger = await DatagramSealer.create({ key: WRONG, aead });
  const opener = await DatagramOpener.create({ keys: [KEY], aead, replayWindowDatagrams: 4_096 });
  const real: Uint8Array[] = [];
  const foreign: Uint8Array[] = [];
  for (let seq = 0; seq < REAL_DATAGRAMS; seq++) {
    const frame = Uint8Array.from({ length: 15 + (seq % 300) }, (_, i) => (i * seq) & 0xff);
    for (const d of splitIntoFragments(frame, { seq, fragId: 0xabcd_0000 + seq, mtuBytes: 190 })) {
      real.push(await sealer.seal(d));
      foreign.push(await stranger.seal(d));
    }
  }
  for (const d of real) if ((await opener.open(d)).status !== "opened") throw new Error("a real datagram was refused");

  const accepted = new Map<Kind, number>(KINDS.map((k) => [k, 0]));
  const start = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < tries; i++) {
    const kind = KINDS[i % KINDS.length]!;
    const pick = next() % real.length;
    const base = real[pick]!;
    let forged: Uint8Array;
    switch (kind) {
      case "bit-flip":
        forged = base.slice();
        forged[next() % forged.length]! ^= 1 << (next() & 7);
        break;
      case "truncated":
        forged = base.subarray(0, next() % base.length);
        break;
      case "extended":
        forged = Uint8Array.of(...base, next() & 0xff);
        break;
      case "replayed":
        forged = base;
        break;
      case "wrong-key":
        forged = foreign[pick]!;
        break;
      case "counter-moved": // a fresh counter ahead of the window's top: only the tag stops it
        forged = base.slice();
        forged[37] = (forged[37]! + 1 + (next() % 200)) & 0xff;
        forged[36] = 0xff;
        break;
      case "header-altered": // another seq, same length: the associated data no longer matches
        forged = base.slice();
        forged[3]! ^= 1 + (next() % 255);
        break;
      case "random-tail": // real headers, random ciphertext and tag, fresh counters
        forged = base.slice();
        forged[36] = 0xfe;
        for (let j = 38; j < forged.length; j++) forged[j] = next() & 0xff;
        break;
    }
    if ((await opener.open(forged)).status === "opened") accepted.set(kind, accepted.get(kind)! + 1);
  }
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const total = [...accepted.values()].reduce((a, b) => a + b, 0);
  const s = opener.stats;
  console.log(
    `${label.padEnd(22)} ${tries.toLocaleString("en")} tries in ${(ms / 1000).toFixed(1)} s ` +
      `(${Math.round((tries / ms) * 1000).toLocaleString("en")} tries/s, ${((used.user + used.system) / tries).toFixed(2)} µs CPU each): ` +
      `${total} accepted; refused as malformed ${s.malformed}, replayed ${s.replayed}, too old ${s.tooOld}, forged ${s.forged}, unknown key ${s.unknownKey}`,
  );
  if (total > 0) console.log(`  ACCEPTED by kind: ${JSON.stringify(Object.fromEntries(accepted))}`);
  return total === 0;
}

const nodeOk = await run(createNodeAead, 1_000_000, "node:crypto (receive)");
const webOk = await run(createWebCryptoAead, 50_000, "WebCrypto (browser)");
if (!nodeOk || !webOk) process.exitCode = 1;
