#!/usr/bin/env node
import { startLean } from "./internal/lean-v8.js";

// V8 set as a receiver wants it, before the command line's modules load; every command but
// `receive` sets V8's defaults back as it starts (see startLean).
startLean();

// Exit codes: 0 success, 1 failure, 2 bad command line, 130/143 stopped by Ctrl-C/SIGTERM.
void import("./main.js")
  .then(({ main }) => main(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  });
