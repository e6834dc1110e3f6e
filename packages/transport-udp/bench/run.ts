// Throughput over IPv4 loopback: UdpSender (pacing "none") -> UdpReceiver (decodePacket on each
// datagram, bounded queue, async iterator), against raw node:dgram sockets doing the same
// sends and receives with no checks, measured in the same run. Both sides share this process
// (as a sender and receiver would each share theirs with the codec). A window of datagrams in
// flight keeps the kernel's receive buffer from overflowing, so the figure is delivered
// datagrams per second, not what the sender can throw away.
//
//   npx tsx bench/run.ts            (from packages/transport-udp, after `npx tsup` in ../packet)
import { createSocket, type Socket } from "node:dgram";
import { DEFAULT_MTU_BYTES, splitIntoFragments } from "@encstream/packet";
import { UdpReceiver, UdpSender } from "../src/index.js";

const DATAGRAMS_PER_ROUND = 40_000;
const DATAGRAMS_PER_FRAME = 8;
const WINDOW_DATAGRAMS = 512; // in flight at most (sent, not yet received)
const RECEIVE_BUFFER_BYTES = 4 << 20; // SO_RCVBUF asked for on both paths (the kernel may cap it)
const ROUNDS = 3;
const STALL_MS = 100; // no progress for this long: count the window as lost and go on

interface Result {
  received: number;
  sent: number;
  /** Wall-clock milliseconds. */
  ms: number;
  /** CPU milliseconds of this process (user + system): steadier than wall time on a busy host. */
  cpuMs: number;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1_000;
}

/** Frames of DATAGRAMS_PER_FRAME datagrams of DEFAULT_MTU_BYTES, as the fragmenter makes them. */
function makeFrames(): Uint8Array[][] {
  const payload = (DEFAULT_MTU_BYTES - 24) * DATAGRAMS_PER_FRAME;
  const frames: Uint8Array[][] = [];
  for (let seq = 0; seq < DATAGRAMS_PER_ROUND / DATAGRAMS_PER_FRAME; seq++) {
    frames.push(splitIntoFragments(new Uint8Array(payload).fill(seq & 0xff), { seq, fragId: seq }));
  }
  return frames;
}

/** Resolves true when `count()` reaches `target`, or false after STALL_MS without reaching it. */
function makeWaiter(): { wait(target: number, count: () => number): Promise<boolean>; poke(): void } {
  let pending: { target: number; count: () => number; resolve: () => void } | undefined;
  return {
    wait(target, count) {
      if (count() >= target) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          pending = undefined;
          resolve(false);
        }, STALL_MS);
        pending = {
          target,
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(true);
          },
        };
      });
    },
    poke() {
      if (pending !== undefined && pending.count() >= pending.target) {
        const { resolve } = pending;
        pending = undefined;
        resolve();
      }
    },
  };
}

async function runTransport(frames: Uint8Array[][]): Promise<Result> {
  const waiter = makeWaiter();
  let received = 0;
  const receiver = await UdpReceiver.bind({ address: "127.0.0.1", port: 0, receiveBufferBytes: RECEIVE_BUFFER_BYTES });
  const sender = await UdpSender.open({ address: "127.0.0.1", port: receiver.port, pacing: "none" });
  const consumer = (async () => {
    for await (const d of receiver) {
      if (d.payload.length > 0) received += 1;
      waiter.poke();
    }
  })();
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let sent = 0;
  let lostCredit = 0; // datagrams given up on after a stall, so that the window moves on
  for (const frame of frames) {
    if (!(await waiter.wait(sent + frame.length - WINDOW_DATAGRAMS, () => received + lostCredit))) {
      lostCredit = sent - received;
    }
    await sender.sendFrame(frame, 20);
    sent += frame.length;
  }
  await waiter.wait(sent, () => received + lostCredit);
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpuStart);
  await sender.close();
  await receiver.close();
  await consumer;
  if (receiver.stats.malformed !== 0) throw new Error("bench datagrams were counted malformed");
  return { received, sent, ms, cpuMs };
}

async function runRaw(frames: Uint8Array[][]): Promise<Result> {
  const waiter = makeWaiter();
  let received = 0;
  const rx = createSocket({ type: "udp4", recvBufferSize: RECEIVE_BUFFER_BYTES });
  rx.on("message", (message: Buffer) => {
    if (message.length > 0) received += 1;
    waiter.poke();
  });
  await new Promise<void>((resolve) => rx.bind(0, "127.0.0.1", () => resolve()));
  const tx = createSocket("udp4");
  await new Promise<void>((resolve) => tx.bind(0, () => resolve()));
  await new Promise<void>((resolve) => tx.connect(rx.address().port, "127.0.0.1", () => resolve()));
  const sendAll = (frame: Uint8Array[]): Promise<void> =>
    new Promise((resolve, reject) => {
      let left = frame.length;
      for (const datagram of frame) {
        tx.send(datagram, (error) => {
          if (error) reject(error);
          else if (--left === 0) resolve();
        });
      }
    });
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let sent = 0;
  let lostCredit = 0; // datagrams given up on after a stall, so that the window moves on
  for (const frame of frames) {
    if (!(await waiter.wait(sent + frame.length - WINDOW_DATAGRAMS, () => received + lostCredit))) {
      lostCredit = sent - received;
    }
    await sendAll(frame);
    sent += frame.length;
  }
  await waiter.wait(sent, () => received + lostCredit);
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpuStart);
  await Promise.all([tx, rx].map((s: Socket) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return { received, sent, ms, cpuMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const frames = makeFrames();
await runTransport(frames.slice(0, 200)); // warm-up of both paths
await runRaw(frames.slice(0, 200));
const transportRates: number[] = [];
const rawRates: number[] = [];
const transportCpuRates: number[] = [];
const rawCpuRates: number[] = [];
let lost = 0;
for (let round = 0; round < ROUNDS; round++) {
  // Alternate so that drift in the machine's load hits both alike.
  for (const [run, rates, cpuRates] of [
    [runRaw, rawRates, rawCpuRates],
    [runTransport, transportRates, transportCpuRates],
  ] as const) {
    const result = await run(frames);
    lost += result.sent - result.received;
    rates.push((result.received / result.ms) * 1_000);
    cpuRates.push((result.received / result.cpuMs) * 1_000);
  }
}
const transport = median(transportRates);
const raw = median(rawRates);
const transportCpu = median(transportCpuRates);
const rawCpu = median(rawCpuRates);
const fmt = (n: number): string => Math.round(n).toLocaleString("en-US").padStart(10);
console.log(
  `loopback IPv4, ${DEFAULT_MTU_BYTES}-byte datagrams, ${DATAGRAMS_PER_FRAME} per frame, ` +
    `window ${WINDOW_DATAGRAMS}, ${DATAGRAMS_PER_ROUND} per round, median of ${ROUNDS} rounds`,
);
console.log("                                      per wall second   per CPU second");
console.log(`raw node:dgram send -> recv           ${fmt(raw)}        ${fmt(rawCpu)}   datagrams`);
console.log(`UdpSender -> UdpReceiver (for await)  ${fmt(transport)}        ${fmt(transportCpu)}   datagrams`);
console.log(
  `ratio transport / raw                 ${(transport / raw).toFixed(2).padStart(10)}        ${(transportCpu / rawCpu).toFixed(2).padStart(10)}`,
);
if (lost > 0) console.log(`(${lost} datagrams lost by the kernel across all rounds; rates count received ones)`);
