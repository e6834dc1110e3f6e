import { describe, expect, test } from "vitest";
import { anyAddress, checkAddress, checkPort, isMulticastAddress } from "./check-options.js";

describe("checkAddress", () => {
  test.each([
    ["127.0.0.1", "ipv4"],
    ["0.0.0.0", "ipv4"],
    ["239.255.0.1", "ipv4"],
    ["::1", "ipv6"],
    ["::", "ipv6"],
    ["ff02::1", "ipv6"],
    ["::%lo", "ipv6"],
    ["fe80::1%eth0", "ipv6"],
    ["::ffff:127.0.0.1", "ipv6"],
  ])("%s is %s", (address, family) => {
    expect(checkAddress("address", address)).toBe(family);
  });

  test.each(["localhost", "", "256.0.0.1", "1.2.3", "::1::", " 127.0.0.1"])("%j is refused naming the parameter", (address) => {
    expect(() => checkAddress("bindAddress", address)).toThrow(/^bindAddress must be an IPv4 or IPv6 address literal/);
  });
});

describe("checkPort", () => {
  test.each([
    [0, 0, true],
    [0, 1, false],
    [1, 1, true],
    [65_535, 1, true],
    [65_536, 0, false],
    [-1, 0, false],
    [80.5, 1, false],
    [Number.NaN, 0, false],
  ] as const)("port %d with minimum %d is accepted: %s", (port, min, ok) => {
    if (ok) expect(checkPort("port", port, min)).toBe(port);
    else expect(() => checkPort("port", port, min)).toThrow(RangeError);
  });
});

describe("isMulticastAddress", () => {
  test.each([
    ["224.0.0.1", "ipv4", true],
    ["239.255.255.255", "ipv4", true],
    ["223.255.255.255", "ipv4", false],
    ["240.0.0.1", "ipv4", false],
    ["127.0.0.1", "ipv4", false],
    ["ff02::1", "ipv6", true],
    ["FF15::7701", "ipv6", true],
    ["fe80::1", "ipv6", false],
    ["::1", "ipv6", false],
  ] as const)("%s (%s): %s", (address, family, expected) => {
    expect(isMulticastAddress(address, family)).toBe(expected);
  });

  test("anyAddress", () => {
    expect(anyAddress("ipv4")).toBe("0.0.0.0");
    expect(anyAddress("ipv6")).toBe("::");
  });
});
