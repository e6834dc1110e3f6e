// The main-thread end of a codec worker: request/reply by id, a bounded number of calls in flight,
// errors rebuilt as the codec's classes, and a shutdown that never leaves the process hanging.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { CodecError } from "../errors.js";
import type { LoadStreamingCodecOptions } from "../streaming/node/load-streaming-codec.js";
import {
  DEFAULT_MAX_QUEUED_CALLS,
  DEFAULT_WORKER_YOUNG_GENERATION_MB,
  MAX_QUEUED_CALLS,
  MAX_WORKER_YOUNG_GENERATION_MB,
  WORKER_CLOSE_TIMEOUT_MS,
} from "./constants.js";
import { deserializeError, type WorkerInit, type WorkerReady, type WorkerReply, type WorkerRequest } from "./worker-protocol.js";

/** Options every worker codec takes beside the model loader's. */
export interface WorkerThreadOptions {
  /**
   * Most calls in flight (sent to the worker, not yet answered); one more rejects with a
   * RangeError instead of queueing without bound. @default 64
   */
  readonly maxQueuedCalls?: number;
  /**
   * The worker script. @default the `codec-worker.js` built beside this module in the package's
   * `dist` (from the sources, e.g. under vitest, the package's built `dist/codec-worker.js`)
   */
  readonly workerUrl?: URL | string;
  /**
   * Most memory of the worker's young generation (V8's `maxYoungGenerationSizeMb`), MiB, 1 to
   * 256. The worker's calls allocate little on its heap, and a young generation left to grow
   * (up to 48 MiB) stays resident for the thread's life.
   * @default 3 (a 1 MiB semi-space)
   */
  readonly youngGenerationMb?: number;
}

/** Where the worker script is: beside the bundle, or the built one when running from the sources. */
export function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  const url = /\.[cm]?ts$/.test(here) ? new URL("../../dist/codec-worker.js", here) : new URL("./codec-worker.js", here);
  return url;
}

type Body = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

/**
 * One codec worker thread. `ready` resolves once the model is loaded; `call` sends a request and
 * resolves with its reply's value. The thread does not keep the process alive while no call is
 * in flight; `close` releases its sessions and ends it.
 */
export class WorkerClient {
  readonly ready: Promise<WorkerReady>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly maxQueued: number;
  private nextId = 1;
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  private initFailed: (e: Error) => void = () => undefined;

  constructor(init: WorkerInit, options: WorkerThreadOptions) {
    const maxQueued = options.maxQueuedCalls ?? DEFAULT_MAX_QUEUED_CALLS;
    if (!Number.isInteger(maxQueued) || maxQueued < 1 || maxQueued > MAX_QUEUED_CALLS) {
      throw new RangeError(`maxQueuedCalls must be an integer in [1, ${MAX_QUEUED_CALLS}], got ${maxQueued}`);
    }
    this.maxQueued = maxQueued;
    const youngMb = options.youngGenerationMb ?? DEFAULT_WORKER_YOUNG_GENERATION_MB;
    if (!Number.isInteger(youngMb) || youngMb < 1 || youngMb > MAX_WORKER_YOUNG_GENERATION_MB) {
      throw new RangeError(`youngGenerationMb must be an integer in [1, ${MAX_WORKER_YOUNG_GENERATION_MB}], got ${youngMb}`);
    }
    const url = options.workerUrl ?? defaultWorkerUrl();
    const file = url instanceof URL ? fileURLToPath(url) : url;
    if (!existsSync(file)) throw new CodecError("worker-failed", `${file}: codec worker script not found (build the package: pnpm build)`);
    this.worker = new Worker(file, { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: youngMb } });
    let onReady!: (r: WorkerReady) => void;
    let onInitFailed!: (e: Error) => void;
    this.ready = new Promise<WorkerReady>((resolve, reject) => {
      onReady = resolve;
      onInitFailed = reject;
    });
    let started = false;
    this.worker.on("message", (message: WorkerReply | { ready: WorkerReady } | { initError: WorkerReply & { ok: false } }) => {
      if ("ready" in message) {
        started = true;
        this.worker.unref();
        onReady(message.ready);
        return;
      }
      if ("initError" in message) {
        this.fail(deserializeError(message.initError.error));
        return;
      }
      const call = this.pending.get(message.id);
      if (call === undefined) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) this.worker.unref();
      if (message.ok) call.resolve(message.value);
      else call.reject(deserializeError(message.error));
    });
    this.worker.on("error", (error) => this.fail(new CodecError("worker-failed", `codec worker: ${error.message}`, { cause: error })));
    this.worker.on("exit", (code) => this.fail(new CodecError("worker-failed", `codec worker exited (code ${code})`)));
    // Until it is ready (or has failed) the worker keeps the process alive: loading is a call in flight.
    this.initFailed = (e) => {
      if (!started) onInitFailed(e);
    };
  }

  private fail(error: Error): void {
    if (this.failure === null) this.failure = error;
    this.initFailed(error);
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
    this.worker.unref();
  }

  /**
   * Send `body` (transferring `transfer`) and resolve with the reply's value.
   * @throws RangeError (rejects) when `maxQueuedCalls` calls are already in flight; CodecError `worker-failed` once the worker is gone
   */
  call<T>(body: Body, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closing !== null) return Promise.reject(new CodecError("worker-failed", "codec worker: closed"));
    if (this.pending.size >= this.maxQueued) {
      return Promise.reject(new RangeError(`calls in flight must stay at most maxQueuedCalls (${this.maxQueued}): await earlier calls first`));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ ...body, id }, transfer);
    });
  }

  /**
   * Let the calls in flight finish, release the worker's sessions and end the thread (terminated
   * after a timeout if it does not end by itself). Later calls reject with `worker-failed`.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.failure === null) {
        const id = this.nextId++;
        const closed = new Promise<void>((resolve) => {
          this.pending.set(id, { resolve: () => resolve(), reject: () => resolve() });
          this.worker.ref();
          this.worker.postMessage({ op: "close", id } satisfies WorkerRequest);
        });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, WORKER_CLOSE_TIMEOUT_MS)))]);
        clearTimeout(timer);
      }
      this.failure ??= new CodecError("worker-failed", "codec worker: closed");
      await this.worker.terminate();
    })();
    return this.closing;
  }
}

/** The node loader's options out of a worker codec's (what crosses to the worker). */
export function loaderOptions(options: LoadStreamingCodecOptions): LoadStreamingCodecOptions {
  const keys = [
    "cacheDir",
    "cacheGraphs",
    "executionProviders",
    "intraOpNumThreads",
    "allowSpinning",
    "sessionOptions",
    "preloadBandwidthsKbps",
    "hints",
    "sides",
    "releaseStartupSessions",
    "precision",
    "oneSessionAtATime",
  ] as const;
  const out: Record<string, unknown> = {};
  for (const key of keys) if (options[key] !== undefined) out[key] = options[key];
  return out as LoadStreamingCodecOptions;
}

/**
 * Disposes a stream object in its worker once its proxy is garbage-collected (a session that
 * drops an encoder or decoder without closing it leaks nothing in the worker).
 */
export const disposeOnCollect = new FinalizationRegistry<{ client: WorkerClient; target: number }>(({ client, target }) => {
  client.call({ op: "dispose", target }).catch(() => undefined);
});
