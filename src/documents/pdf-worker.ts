/**
 * PDF to text, in a worker thread (started by pdf.ts from bundled source): pdf.js is
 * large to load and a big PDF takes a while to parse, and neither may stall the
 * thread that serves requests. In: `{ id, bytes }`. Out: `{ id, result: text }` or
 * `{ id, error }`, the error a reason in plain words.
 */
import { extractText, getDocumentProxy } from "unpdf";
import { NO_TEXT_LAYER, startsWithPdfMagic } from "./pdf-text";

declare const self: Worker;

/** Text of every page, pages separated by blank lines. Throws with a reason in plain words. */
async function pdfText(bytes: Uint8Array): Promise<string> {
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
    const { text } = await extractText(doc, { mergePages: false });
    const pages = text.map((t) => t.trim());
    return pages.some(Boolean) ? pages.join("\n\n").trim() : NO_TEXT_LAYER;
  } catch (e) {
    throw new Error(`its text could not be extracted (${(e as Error).message})`);
  } finally {
    await doc.destroy().catch(() => {});
  }
}

self.onmessage = async (e: MessageEvent<{ id: number; bytes: Uint8Array }>) => {
  const { id, bytes } = e.data;
  try {
    self.postMessage({ id, result: await pdfText(bytes) });
  } catch (err) {
    self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
