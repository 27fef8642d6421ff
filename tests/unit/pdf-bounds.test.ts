/**
 * PDFs are read within bounds: pages (a page tree listing one page 20,000 times), the text
 * a document may become (a few KB of PDF once became a 4.2 MB prompt), and time (the
 * document's own thread is ended). Each document has a thread of its own.
 */
import { describe, expect, test } from "bun:test";
import { ApiError } from "../../src/http/errors";
import { createDocumentResolver } from "../../src/documents/resolver";
import { DEFAULT_PDF_LIMITS, pdfText } from "../../src/documents/pdf";
import { makePdf, makeRepeatedPagePdf, toBase64 } from "../helpers/pdf";

const resolver = createDocumentResolver({ allowPrivateUrls: false, timeoutMs: 5000, maxBytes: 1024 * 1024 });
const withPdf = (bytes: Uint8Array) => ({
  messages: [{ role: "user" as const, content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: toBase64(bytes) } } as never] }],
});

async function refusal(bytes: Uint8Array): Promise<ApiError> {
  const err = await resolver.resolve(withPdf(bytes)).then(
    () => undefined,
    (e) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(err)}`);
  return err;
}

describe("bounds on what a PDF may become", () => {
  test("a page tree listing one page 20,000 times: a clear 400, at once", async () => {
    const bytes = makeRepeatedPagePdf("Same page again", 20_000);
    expect(bytes.length).toBeLessThan(200 * 1024);
    const err = await refusal(bytes);
    expect(err.status).toBe(400);
    expect(err.message).toContain(`it has 20000 pages; at most ${DEFAULT_PDF_LIMITS.maxPages} can be read`);
  });

  test("a small PDF whose text would be megabytes: a clear 400", async () => {
    const bytes = makeRepeatedPagePdf("A".repeat(50), 99, 250); // 99 pages of 250 lines
    expect(bytes.length).toBeLessThan(32 * 1024);
    const err = await refusal(bytes);
    expect(err.status).toBe(400);
    expect(err.message).toContain(`its text is longer than ${DEFAULT_PDF_LIMITS.maxChars} characters`);
  });

  test("within the bounds, repeated pages read as usual", async () => {
    const text = await pdfText(makeRepeatedPagePdf("Quarterly report", 3));
    expect(text.split("Quarterly report").length - 1).toBe(3);
  });
});

describe("one thread per document", () => {
  test("a document over its time is refused; the next one is read by a fresh thread", async () => {
    const bytes = makePdf(["Slow to read"]);
    await expect(pdfText(bytes, { ...DEFAULT_PDF_LIMITS, timeoutMs: 1 })).rejects.toThrow(/reading it took longer than/);
    expect(await pdfText(bytes)).toContain("Slow to read");
  });

  test("several documents at once are all read", async () => {
    const texts = await Promise.all(Array.from({ length: 5 }, (_, i) => pdfText(makePdf([`Document ${i}`]))));
    texts.forEach((t, i) => expect(t).toContain(`Document ${i}`));
  });
});
