#!/usr/bin/env node
import { pauseOptimizingCompiler } from "./internal/optimizing-compiler.js";

// V8's optimizing compiler stays off from the start, before the command line's modules load
// (node's module loader gets hot enough to be optimized), and each command but `receive` turns
// it back on when it starts (see pauseOptimizingCompiler).
pauseOptimizingCompiler();

// Exit codes: 0 success, 1 failure, 2 bad command line, 130/143 stopped by Ctrl-C/SIGTERM.
void import("./main.js")
  .then(({ main }) => main(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  });
