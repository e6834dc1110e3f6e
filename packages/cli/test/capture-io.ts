import { PassThrough } from "node:stream";
import type { CommandIo } from "../src/internal/command-io.js";

/** A CommandIo whose stdout and stderr are collected as text. */
export function captureIo(signal?: AbortSignal): { io: CommandIo; stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (chunk: Buffer) => out.push(chunk.toString("utf8")));
  stderr.on("data", (chunk: Buffer) => err.push(chunk.toString("utf8")));
  const io: CommandIo = signal === undefined ? { stdout, stderr } : { stdout, stderr, signal };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}
