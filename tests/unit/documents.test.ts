import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { ApiError } from "../../src/http/errors";
import { createDocumentResolver, isPrivateAddress, NO_TEXT_LAYER, pdfText } from "../../src/documents/resolver";
import { makePdf, toBase64 } from "../helpers/pdf";

const PDF = makePdf(["Quarterly report", "Revenue grew (a lot).\nSecond line"]);
const open = { allowPrivateUrls: true, timeoutMs: 2_000, maxBytes: 64 * 1024 };
const pdfDoc = (data: string, extra: Record<string, unknown> = {}) => ({
  type: "document",
  source: { type: "base64", media_type: "application/pdf", data },
  ...extra,
});
const one = (block: unknown) => ({ messages: [{ role: "user" as const, content: [block as { type: string }] }] });

async function failure(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(err)}`);
  return err;
}

describe("pdfText", () => {
  test("text of every page, pages apart", async () => {
    const text = await pdfText(PDF);
    expect(text).toContain("Quarterly report");
    expect(text).toContain("Revenue grew (a lot).");
    expect(text.indexOf("Quarterly report")).toBeLessThan(text.indexOf("Revenue grew"));
    expect(text).toMatch(/Quarterly report\n\n[\s\S]*Revenue/);
  });

  test("no text layer: a note says so", async () => {
    expect(await pdfText(makePdf([""]))).toBe(NO_TEXT_LAYER);
  });

  test("not a PDF, or a damaged one: an error in plain words", async () => {
    await expect(pdfText(new TextEncoder().encode("hello"))).rejects.toThrow(/not a PDF file/);
    await expect(pdfText(new TextEncoder().encode("%PDF-1.7\nthis is not really a pdf"))).rejects.toThrow(/damaged or not a valid PDF/);
  });
});

describe("resolving documents in a request", () => {
  const resolver = createDocumentResolver({ ...open, allowPrivateUrls: false });

  test("a request without such documents is returned as it is", async () => {
    const req = one({ type: "document", source: { type: "text", data: "x" } });
    expect(await resolver.resolve(req)).toBe(req);
  });

  test("a base64 PDF becomes a text document, title and context kept", async () => {
    const out = await resolver.resolve(one(pdfDoc(toBase64(PDF), { title: "Q3", context: "finance" })));
    const doc = out.messages[0]!.content[0] as any;
    expect(doc).toMatchObject({ type: "document", title: "Q3", context: "finance", source: { type: "text", media_type: "text/plain" } });
    expect(doc.source.data).toContain("Quarterly report");
  });

  test("documents inside a tool_result are resolved too; other blocks are untouched", async () => {
    const text = { type: "text", text: "see attached" };
    const req = {
      messages: [
        { role: "user" as const, content: "hi" },
        { role: "user" as const, content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [text, pdfDoc(toBase64(PDF))] }, text] },
      ],
    };
    const out = await resolver.resolve(req);
    expect(out.messages[0]).toBe(req.messages[0]);
    const result = out.messages[1]!.content[0] as any;
    expect(result.content[0]).toBe(text);
    expect(result.content[1].source.data).toContain("Revenue grew");
    expect(out.messages[1]!.content[1]).toBe(text);
    expect((req.messages[1]!.content[0] as any).content[1].source.type).toBe("base64"); // the input is not mutated
  });

  test("base64 text is decoded as UTF-8", async () => {
    const out = await resolver.resolve(one({ type: "document", source: { type: "base64", media_type: "text/plain", data: toBase64(new TextEncoder().encode("héllo 🌍")) } }));
    expect((out.messages[0]!.content[0] as any).source.data).toBe("héllo 🌍");
  });

  test("unreadable documents are 400s that name the block and say why", async () => {
    const bad = await failure(resolver.resolve({ messages: [{ role: "user", content: "x" }, { role: "user", content: [{ type: "text", text: "a" }, pdfDoc(toBase64(new TextEncoder().encode("%PDF-1.4 junk")))] as any }] }));
    expect(bad.status).toBe(400);
    expect(bad.type).toBe("invalid_request_error");
    expect(bad.message).toMatch(/^messages\[1\]\.content\[1\]: the document could not be read: it is damaged or not a valid PDF/);

    expect((await failure(resolver.resolve(one(pdfDoc("%%%not base64%%%"))))).message).toContain("not valid base64");
    expect((await failure(resolver.resolve(one(pdfDoc(toBase64(new TextEncoder().encode("plain words"))))))).message).toContain("not a PDF file");
    const word = await failure(resolver.resolve(one({ type: "document", source: { type: "base64", media_type: "application/msword", data: "AAAA" } })));
    expect(word.message).toContain('media_type "application/msword" are not supported');
    const latin1 = await failure(resolver.resolve(one({ type: "document", source: { type: "base64", media_type: "text/plain", data: toBase64(new Uint8Array([0xff, 0xfe, 0x41])) } })));
    expect(latin1.message).toContain("not valid UTF-8");
  });
});

describe("the SSRF guard", () => {
  test("private, loopback, link-local and odd addresses are refused; public ones pass", () => {
    for (const a of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "224.0.0.1", "not-an-ip"]) {
      expect(isPrivateAddress(a)).toBe(true);
    }
    for (const a of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "172.32.0.1"]) expect(isPrivateAddress(a)).toBe(false);
  });
});

describe("documents by URL (served from 127.0.0.1)", () => {
  let server: Server<undefined>;
  let base: string;
  const hanging: Array<() => void> = [];
  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname;
        switch (path) {
          case "/report.pdf":
            return new Response(PDF, { headers: { "content-type": "application/pdf" } });
          case "/untyped":
            return new Response(PDF, { headers: { "content-type": "application/octet-stream" } });
          case "/notes.txt":
            return new Response("plain notes ✓", { headers: { "content-type": "text/plain; charset=utf-8" } });
          case "/moved":
            return new Response(null, { status: 302, headers: { location: "/report.pdf" } });
          case "/loop":
            return new Response(null, { status: 302, headers: { location: "/loop" } });
          case "/big":
            return new Response(new Uint8Array(100 * 1024), { headers: { "content-type": "application/pdf" } });
          case "/big-chunked":
            return new Response(
              new ReadableStream({
                start(c) {
                  for (let i = 0; i < 100; i++) c.enqueue(new Uint8Array(1024));
                  c.close();
                },
              }),
              { headers: { "content-type": "application/pdf" } },
            );
          case "/image.png":
            return new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), { headers: { "content-type": "image/png" } });
          case "/hang":
            return new Promise<Response>((resolve) => hanging.push(() => resolve(new Response("late"))));
          default:
            return new Response("no", { status: 404 });
        }
      },
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => {
    for (const release of hanging) release();
    server.stop(true);
  });
  const urlDoc = (path: string) => one({ type: "document", source: { type: "url", url: base + path } });
  const resolver = createDocumentResolver(open);
  const text = async (path: string) => ((await resolver.resolve(urlDoc(path))).messages[0]!.content[0] as any).source.data as string;

  test("a PDF by URL, by content-type or by its header, and through a redirect", async () => {
    expect(await text("/report.pdf")).toContain("Quarterly report");
    expect(await text("/untyped")).toContain("Quarterly report");
    expect(await text("/moved")).toContain("Quarterly report");
    expect(await text("/notes.txt")).toBe("plain notes ✓");
  });

  test("bounded: size, redirects, time; and clear about failures", async () => {
    const msg = async (path: string, r = resolver) => (await failure(r.resolve(urlDoc(path)))).message;
    expect(await msg("/big")).toContain(`is larger than ${64 * 1024} bytes`);
    expect(await msg("/big-chunked")).toContain(`is larger than ${64 * 1024} bytes`);
    expect(await msg("/loop")).toContain("redirected more than 5 times");
    expect(await msg("/missing")).toContain("answered HTTP 404");
    expect(await msg("/image.png")).toContain('neither a PDF nor text (content-type "image/png")');
    const quick = createDocumentResolver({ ...open, timeoutMs: 200 });
    expect(await msg("/hang", quick)).toContain("took longer than 200 ms");
  });

  test("by default, loopback and private addresses are refused, by IP or by name", async () => {
    const guarded = createDocumentResolver({ ...open, allowPrivateUrls: false });
    const err = await failure(guarded.resolve(urlDoc("/report.pdf")));
    expect(err.status).toBe(400);
    expect(err.message).toContain("loopback, private or link-local");
    expect(err.message).toContain("allow_private_urls");
    const byName = await failure(guarded.resolve(one({ type: "document", source: { type: "url", url: `http://localhost:${server.port}/report.pdf` } })));
    expect(byName.message).toContain("loopback, private or link-local");
  });

  test("only http and https", async () => {
    const err = await failure(resolver.resolve(one({ type: "document", source: { type: "url", url: "file:///etc/passwd" } })));
    expect(err.message).toContain("only http:// and https://");
  });
});
