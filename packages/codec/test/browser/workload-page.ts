// Bundled by esbuild for the Chromium test: exposes the shared workload and a counting Cache API graph cache.
import { CacheStorageGraphCache } from "../../src/web.js";
import { runWebWorkload, type WorkloadInput } from "../support/web-workload.js";

const counts = { hits: 0, misses: 0, writes: 0 };
const cache = new CacheStorageGraphCache();

(globalThis as Record<string, unknown>).runWorkload = async (input: WorkloadInput) => {
  const output = await runWebWorkload(input, {
    flavour: "wasm",
    wasmPaths: "/ort/",
    numThreads: 1,
    graphCache: {
      read: async (key) => {
        const bytes = await cache.read(key);
        if (bytes) counts.hits++;
        else counts.misses++;
        return bytes;
      },
      write: async (key, bytes) => {
        counts.writes++;
        await cache.write(key, bytes);
      },
    },
  });
  return { ...output, cache: { ...counts } };
};
