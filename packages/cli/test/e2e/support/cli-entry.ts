/**
 * The `encstream` command line for the end-to-end tests while `dist/bin.js` does not run send
 * and receive yet: the real parser (`runCommandLine`) with the real `runSend` / `runReceive`.
 */
import { runReceive } from "../../../src/commands/receive.js";
import { runSend } from "../../../src/commands/send.js";
import { runCommandLine } from "../../../src/options.js";

const notHere = async (): Promise<void> => {
  throw new Error("this test entry runs send and receive only");
};

process.exitCode = await runCommandLine(process.argv.slice(2), {
  send: async (options) => void (await runSend(options)),
  receive: async (options) => void (await runReceive(options)),
  encode: notHere,
  decode: notHere,
  pull: notHere,
  devices: notHere,
  keygen: notHere,
});
