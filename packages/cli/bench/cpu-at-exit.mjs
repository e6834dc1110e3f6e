// Preload for benchmarks (node --import ./bench/cpu-at-exit.mjs …): at exit, writes the process's
// CPU time (user + system, all threads, ms) to stderr as `cpu-at-exit <ms>`.
process.on("exit", () => {
  const used = process.cpuUsage();
  process.stderr.write(`\ncpu-at-exit ${((used.user + used.system) / 1000).toFixed(1)}\n`);
});
