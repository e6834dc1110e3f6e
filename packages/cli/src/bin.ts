#!/usr/bin/env node
import { main } from "./main.js";

// Exit codes: 0 success, 1 failure, 2 bad command line, 130/143 stopped by Ctrl-C/SIGTERM.
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
