import type { Socket } from "node:dgram";
import { systemCodeOf, wrapSystemError } from "./system-error.js";

/** Binds `socket`; rejects with a `"bind-failed"` TransportError. */
export function bindSocket(socket: Socket, port: number, address: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(wrapSystemError("bind-failed", `cannot bind to ${address ?? "any address"}:${port}`, error));
    };
    socket.once("error", onError);
    socket.bind({ port, ...(address === undefined ? {} : { address }) }, () => {
      socket.off("error", onError);
      resolve();
    });
  });
}

/** Connects `socket` to one destination; rejects with a `"connect-failed"` TransportError. */
export function connectSocket(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      socket.connect(port, address, (error?: Error) => {
        if (error) reject(wrapSystemError("connect-failed", `cannot connect to ${address}:${port}`, error));
        else resolve();
      });
    } catch (error) {
      reject(wrapSystemError("connect-failed", `cannot connect to ${address}:${port}`, error));
    }
  });
}

/** Closes `socket`; resolves once closed (at once if it already was). */
export function closeQuietly(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch (error) {
      if (systemCodeOf(error) === "ERR_SOCKET_DGRAM_NOT_RUNNING") resolve();
      else throw error;
    }
  });
}
