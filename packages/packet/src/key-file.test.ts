import { describe, expect, test } from "vitest";
import { isPacketError } from "./errors.js";
import { formatKeyFile, formatKeyList, generateKey, parseKeyFile, parseKeyList } from "./key-file.js";

const HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const KEY = Uint8Array.from(HEX.match(/../g)!.map((h) => Number.parseInt(h, 16)));

function keyError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(isPacketError(error) && error.code === "bad-key").toBe(true);
    return (error as Error).message;
  }
  throw new Error("expected a bad-key PacketError");
}

describe("key file", () => {
  test("parses the documented format; the first key is first", () => {
    const text = `# comment\n\nencstream-key-v1\nkey 42 ${HEX}\n  key 0   ${HEX.toUpperCase()}  \r\n`;
    expect(parseKeyFile(text, "k.key")).toEqual([
      { keyId: 42, key: KEY },
      { keyId: 0, key: KEY },
    ]);
  });

  test("format and parse round-trip, generated keys are random", () => {
    const keys = [generateKey(3), generateKey()];
    expect(keys[0]!.key).not.toEqual(keys[1]!.key);
    if (keys[1]!.keyId === 3) keys[1] = { ...keys[1]!, keyId: 4 };
    expect(parseKeyFile(formatKeyFile(keys))).toEqual(keys);
    expect(parseKeyList(formatKeyList(keys))).toEqual(keys);
    expect(formatKeyList([{ keyId: 42, key: KEY }])).toBe(`42:${HEX}`);
  });

  test.each([
    ["empty", "", /k.key: empty/],
    ["no tag", `key 1 ${HEX}\n`, /k.key, line 1: expected the format tag encstream-key-v1/],
    ["no key", "encstream-key-v1\n", /k.key: holds no key/],
    ["short key", `encstream-key-v1\nkey 1 ${HEX.slice(2)}\n`, /line 2: the key must be 64 hex digits \(32 bytes\), got 62/],
    ["non-hex key", `encstream-key-v1\nkey 1 ${HEX.slice(1)}g\n`, /line 2: the key must be 64 hex digits/],
    ["id 256", `encstream-key-v1\nkey 256 ${HEX}\n`, /line 2: key id must be an integer in 0-255, got "256"/],
    ["id -1", `encstream-key-v1\nkey -1 ${HEX}\n`, /line 2: key id must be/],
    ["repeated id", `encstream-key-v1\nkey 1 ${HEX}\nkey 1 ${HEX}\n`, /line 3: key id 1 appears twice/],
    ["extra field", `encstream-key-v1\nkey 1 ${HEX} x\n`, /line 2: expected "key <id 0-255> <64 hex digits>", got 4 field/],
    ["too large", `encstream-key-v1\n${"#".repeat(70_000)}`, /more than a key file's 65536/],
  ])("%s: a bad-key error naming the file and the line", (_name, text, message) => {
    const error = keyError(() => parseKeyFile(text, "k.key"));
    expect(error).toMatch(message);
    expect(error).not.toContain(HEX.slice(2, 20)); // never echoes key digits
  });

  test.each([
    ["no colon", HEX, /ENCSTREAM_KEY, key 1: expected <id 0-255>:<64 hex digits>/],
    ["bad id", `x:${HEX}`, /key id must be/],
    ["second key short", `1:${HEX},2:abcd`, /ENCSTREAM_KEY, key 2: the key must be 64 hex digits/],
    ["empty", "", /ENCSTREAM_KEY, key 1/],
  ])("ENCSTREAM_KEY %s", (_name, value, message) => {
    expect(keyError(() => parseKeyList(value))).toMatch(message);
  });

  test("misuse throws naming the parameter", () => {
    expect(() => generateKey(300)).toThrow(/^keyId/);
    expect(() => formatKeyFile([])).toThrow(TypeError);
    expect(() => formatKeyFile([{ keyId: 1, key: new Uint8Array(31) }])).toThrow(/^keys\[0\].key must be 32 bytes/);
  });
});
