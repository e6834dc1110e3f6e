import { describe, expect, test } from "vitest";
import { expectedSha256, parseContentRange, sha256FromEtag, sizeHeader } from "./http-metadata.js";

const SHA = "a".repeat(64);

describe("http metadata", () => {
  test.each([
    [`"${SHA}"`, SHA],
    [`W/"${SHA.toUpperCase()}"`, SHA],
    [SHA, SHA],
    [`"${"b".repeat(40)}"`, undefined], // git blob id
    [`"${"c".repeat(32)}"`, undefined], // md5-like
    [`"${SHA}-2"`, undefined], // multipart-style
    [null, undefined],
  ])("etag %s → sha256 %s", (etag, sha) => {
    expect(sha256FromEtag(etag)).toBe(sha);
  });

  test.each([
    ["bytes 100-199/200", { first: 100, last: 199, total: 200 }],
    ["bytes 0-0/*", { first: 0, last: 0, total: undefined }],
    ["bytes */5000", { first: undefined, last: undefined, total: 5000 }],
    ["bytes 10-5/20", undefined],
    ["items 0-1/2", undefined],
    [null, undefined],
  ])("content-range %s", (header, range) => {
    expect(parseContentRange(header)).toEqual(range);
  });

  test("sizes and caller checksums", () => {
    expect(sizeHeader("1234")).toBe(1234);
    expect(sizeHeader("-1")).toBeUndefined();
    expect(sizeHeader("99999999999999999999")).toBeUndefined();
    expect(expectedSha256(" D7CC33BC ")).toBe("d7cc33bc");
    expect(() => expectedSha256("d7cc33")).toThrow(/^sha256 must be 8 to 64 hex digits/);
  });
});
