/**
 * PDF to text, in a worker thread of its own (started by pdf.ts from bundled source, one
 * per document and ended after it): pdf.js is large to load and a big PDF takes a while
 * to parse, and neither may stall the thread that serves requests. Pages are read one at
 * a time, within bounds on their number and on the text they become.
 * In: `{ id, bytes, maxPages, maxChars }`. Out: `{ id, result: text }` or `{ id, error }`,
 * the error a reason in plain words.
 */
import { getDocumentProxy } from "unpdf";
import { NO_TEXT_LAYER, startsWithPdfMagic } from "./pdf-text";

declare const self: Worker;

interface Job {
  id: number;
  bytes: Uint8Array;
  maxPages: number;
  maxChars: number;
}

/** Text of every page, pages separated by blank lines. Throws with a reason in plain words. */
async function pdfText({ bytes, maxPages, maxChars }: Job): Promise<string> {
  if (!startsWithPdfMagic(bytes)) throw new Error("it is not a PDF file (no %PDF- header)");
  let doc: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    doc = await getDocumentProxy(bytes, { verbosity: 0, isEvalSupported: false });
  } catch (e) {
    const name = (e as Error).name;
    if (name === "PasswordException") throw new Error("it is encrypted (password-protected)");
    throw new Error(`it is damaged or not a valid PDF (${(e as Error).message})`);
  }
  try {
    if (doc.numPages > maxPages) throw new Error(`it has ${doc.numPages} pages; at most ${maxPages} can be read`);
    const pages: string[] = [];
    let chars = 0;
    for (let n = 1; n <= doc.numPages; n++) {
      let text: string;
      try {
        const page = await doc.getPage(n);
        const content = await page.getTextContent();
        text = content.items
          .filter((item) => "str" in item && item.str != null)
          .map((item) => ("str" in item ? item.str + (item.hasEOL ? "\n" : "") : ""))
          .join("")
          .trim();
        page.cleanup();
      } catch (e) {
        throw new Error(`its text could not be extracted (${(e as Error).message})`);
      }
      chars += text.length + 2;
      if (chars > maxChars) throw new Error(`its text is longer than ${maxChars} characters (by page ${n} of ${doc.numPages})`);
      pages.push(text);
    }
    return pages.some(Boolean) ? pages.join("\n\n").trim() : NO_TEXT_LAYER;
  } finally {
    await doc.destroy().catch(() => {});
  }
}

self.onmessage = async (e: MessageEvent<Job>) => {
  const { id } = e.data;
  try {
    self.postMessage({ id, result: await pdfText(e.data) });
  } catch (err) {
    self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
