import { describe, expect, test } from "vitest";
import { DataChannelPeer, type DataChannelLibrary } from "./data-channel-peer.js";

/** A stand-in for node-datachannel: lets the test drive the connection's state and the channel's open. */
function fakeLibrary() {
  const handles: { state?: (state: string) => void; open?: () => void; closedPc: number; closedChannel: number } = { closedPc: 0, closedChannel: 0 };
  class PeerConnection {
    onLocalDescription(): void {}
    onLocalCandidate(): void {}
    onStateChange(handler: (state: string) => void): void {
      handles.state = handler;
    }
    createDataChannel() {
      return {
        onOpen: (handler: () => void) => (handles.open = handler),
        onClosed: () => undefined,
        onError: () => undefined,
        onMessage: () => undefined,
        close: () => handles.closedChannel++,
        bufferedAmount: () => 0,
        sendMessageBinary: () => true,
      };
    }
    close(): void {
      handles.closedPc++;
    }
  }
  return { lib: { PeerConnection } as unknown as DataChannelLibrary, handles };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("DataChannelPeer and the connection's state", () => {
  test("a connection that is disconnected for a moment and connected again stays open", async () => {
    const { lib, handles } = fakeLibrary();
    const changes: string[] = [];
    const peer = new DataChannelPeer(lib, "p", { signal: () => undefined, onOpenChange: (open, why) => changes.push(`${open} ${why}`), disconnectedGraceMs: 60 });
    handles.open!();
    handles.state!("disconnected");
    await wait(20);
    handles.state!("connected");
    await wait(120);
    expect(peer.open).toBe(true);
    expect(peer.send(new Uint8Array(4), 1000)).toBe("sent");
    expect(changes).toEqual(["true opened"]);
    expect(handles.closedPc).toBe(0);
  });

  test("a connection that stays disconnected past the grace is closed, once", async () => {
    const { lib, handles } = fakeLibrary();
    const changes: string[] = [];
    const peer = new DataChannelPeer(lib, "p", { signal: () => undefined, onOpenChange: (open, why) => changes.push(`${open} ${why}`), disconnectedGraceMs: 40 });
    handles.open!();
    handles.state!("disconnected");
    handles.state!("disconnected");
    expect(peer.open).toBe(true);
    await wait(120);
    expect(peer.open).toBe(false);
    expect(peer.send(new Uint8Array(4), 1000)).toBe("closed");
    expect(changes).toEqual(["true opened", "false connection disconnected"]);
    expect(handles.closedPc).toBe(1);
  });

  test("a failed connection is closed at once", () => {
    const { lib, handles } = fakeLibrary();
    const changes: string[] = [];
    const peer = new DataChannelPeer(lib, "p", { signal: () => undefined, onOpenChange: (open, why) => changes.push(`${open} ${why}`) });
    handles.open!();
    handles.state!("failed");
    expect(peer.open).toBe(false);
    expect(changes).toEqual(["true opened", "false connection failed"]);
  });
});
