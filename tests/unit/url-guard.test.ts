/** The document-URL guard: every IPv6 spelling of a private IPv4 address is refused, and the fetch connects to the checked address. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { ApiError } from "../../src/http/errors";
import { createDocumentResolver } from "../../src/documents/resolver";
import { ipv6Bytes, isPrivateAddress, pinnedRequest } from "../../src/documents/url-guard";

describe("isPrivateAddress", () => {
  test.each([
    "::127.0.0.1",
    "::7f00:1",
    "::ffff:0:127.0.0.1",
    "::ffff:0:7f00:1",
    "::ffff:7f00:1",
    "64:ff9b::127.0.0.1",
    "64:ff9b::7f00:1",
    "64:ff9b::10.0.0.1",
    "64:ff9b:1::a9fe:a9fe",
    "2002:7f00:1::",
    "2002:c0a8:101::1",
    "::",
    "::1",
    "fe80::1%eth0",
    "fd00::1",
    "2001:db8::1",
    "2001:0:4136:e378::1",
    "0:0:0:0:0:ffff:127.0.0.1",
  ])("%s is refused", (a) => {
    expect(isPrivateAddress(a)).toBe(true);
  });

  test.each(["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8", "2002:808:808::1"])("%s passes", (a) => {
    expect(isPrivateAddress(a)).toBe(false);
  });

  test("ipv6Bytes expands every form", () => {
    expect([...ipv6Bytes("::ffff:0:127.0.0.1")!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 127, 0, 0, 1]);
    expect([...ipv6Bytes("64:ff9b::7f00:1")!]).toEqual([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1]);
    expect(ipv6Bytes("1.2.3.4")).toBeNull();
  });
});

describe("URLs hiding a loopback address in IPv6 are refused before any connection", () => {
  let hits = 0;
  let server: Server<undefined>;
  beforeAll(() => {
    server = Bun.serve({ hostname: "::", port: 0, fetch: () => (hits++, new Response("secret")) });
  });
  afterAll(() => server.stop(true));

  test.each(["[::127.0.0.1]", "[::ffff:0:127.0.0.1]", "[64:ff9b::127.0.0.1]", "[::ffff:127.0.0.1]", "[::1]"])("http://%s", async (host) => {
    const resolver = createDocumentResolver({ allowPrivateUrls: false, timeoutMs: 2000, maxBytes: 1024 });
    const url = `http://${host}:${server.port}/doc.txt`;
    const err = await resolver
      .resolve({ messages: [{ role: "user", content: [{ type: "document", source: { type: "url", url } } as never] }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toContain("loopback, private or link-local");
    expect(hits).toBe(0);
  });
});

describe("the fetch connects to the address that was resolved and checked", () => {
  test("pinnedRequest: the address in the URL, the name in Host", () => {
    const p = pinnedRequest(new URL("http://docs.example.test:8080/a/b.pdf?x=1"), "203.0.113.9");
    expect(p.url.href).toBe("http://203.0.113.9:8080/a/b.pdf?x=1");
    expect(p.headers.host).toBe("docs.example.test:8080");
    const s = pinnedRequest(new URL("https://docs.example.test/x"), "2001:4860::1");
    expect(s.url.href).toBe("https://[2001:4860::1]/x");
    expect(s.tls?.serverName).toBe("docs.example.test");
    expect(pinnedRequest(new URL("http://127.0.0.1/x"), "127.0.0.1").headers).toEqual({});
  });

  test("the name is resolved once, by the guard, and the connection goes there", async () => {
    let seenHost = "";
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => ((seenHost = req.headers.get("host") ?? ""), new Response("pinned text", { headers: { "content-type": "text/plain" } })),
    });
    try {
      const lookups: string[] = [];
      // A name no real resolver knows: only the guard's own lookup can make this fetch work.
      const resolver = createDocumentResolver({
        allowPrivateUrls: true,
        timeoutMs: 2000,
        maxBytes: 1024,
        lookup: async (host) => (lookups.push(host), ["127.0.0.1"]),
      });
      const url = `http://rebind.grok2api.invalid:${server.port}/doc.txt`;
      const out = await resolver.resolve({ messages: [{ role: "user", content: [{ type: "document", source: { type: "url", url } } as never] }] });
      expect((out.messages[0]!.content[0] as any).source.data).toBe("pinned text");
      expect(lookups).toEqual(["rebind.grok2api.invalid"]);
      expect(seenHost).toBe(`rebind.grok2api.invalid:${server.port}`);
    } finally {
      server.stop(true);
    }
  });
});

describe("https: the pinned address still speaks TLS to the URL's name", () => {
  const openssl = Bun.which("openssl");
  test.skipIf(!openssl)("SNI and the certificate check use the name; a certificate for another name is refused", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "grok2api-tls-"));
    const makeCert = (name: string) => {
      const r = Bun.spawnSync([openssl!, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.pem`), "-days", "1", "-subj", `/CN=${name}`, "-addext", `subjectAltName=DNS:${name}`], { stderr: "ignore", stdout: "ignore" });
      if (r.exitCode !== 0) throw new Error("openssl failed");
      return { serverName: name, cert: Bun.file(join(dir, `${name}.pem`)), key: Bun.file(join(dir, `${name}.key`)) };
    };
    const docs = makeCert("docs.example.test");
    const other = makeCert("other.example.test");
    // The first certificate is served when no server name is sent: a fetch without SNI would get the wrong one.
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: [other, docs], fetch: (req) => new Response(`host=${req.headers.get("host")}`) });
    try {
      const ca = [await docs.cert.text(), await other.cert.text()];
      const p = pinnedRequest(new URL(`https://docs.example.test:${server.port}/doc.txt`), "127.0.0.1");
      const res = await fetch(p.url, { headers: p.headers, tls: { ...p.tls, ca } } as RequestInit);
      expect(await res.text()).toBe(`host=docs.example.test:${server.port}`);
      const wrong = pinnedRequest(new URL(`https://evil.example.test:${server.port}/doc.txt`), "127.0.0.1");
      const err = await fetch(wrong.url, { headers: wrong.headers, tls: { ...wrong.tls, ca } } as RequestInit).catch((e) => e);
      expect(err).toBeInstanceOf(Error);
    } finally {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
