/**
 * Documents the upstream cannot take as they are — PDFs (base64 or URL), base64 text,
 * files uploaded to /v1/files — turned into text documents before the (pure) translation;
 * images given by `file_id` become base64 images. This is the one async, I/O-doing step
 * of the translation, so it runs as a pre-pass in the route.
 *
 * - PDF text is extracted with unpdf (pdf.js); an unreadable PDF is a 400 that says so;
 *   a PDF without a text layer (scanned pages) becomes a note saying so, for the model.
 * - URLs are fetched with bounds on time, size and redirects, and by default never
 *   reach loopback, private or link-local addresses (a gateway must not be a way into
 *   the network it runs in); `[documents] allow_private_urls = true` lifts that.
 * - Extracted text is kept in a small cache keyed by the PDF's hash, since clients
 *   resend the same document on every turn of a conversation.
 */
import type { DocumentBlock, ImageBlock, MessagesRequest, ToolResultBlock } from "../anthropic/schema";
import { readAllLimited } from "../http/body";
import { ApiError, invalidRequest, networkErrorText } from "../http/errors";
import { TextCache } from "./cache";
import { pdfText } from "./pdf";
import { startsWithPdfMagic } from "./pdf-text";
import { checkedAddress, pinnedRequest, type Lookup } from "./url-guard";

export { isPrivateAddress } from "./url-guard";

export interface DocumentFetchOptions {
  /** Let URLs reach loopback / private / link-local addresses. */
  allowPrivateUrls: boolean;
  /** Whole fetch (all redirects and the body), milliseconds. */
  timeoutMs: number;
  /** Largest body accepted, bytes. */
  maxBytes: number;
  /** Name resolution (tests); default: the system resolver. */
  lookup?: Lookup;
}

/** The files a request may name (`source: {type: "file", file_id}`): the caller's own, read through this. */
export interface FileAccess {
  /** The file's type and bytes; an ApiError (404) when the caller has no such file. */
  read(fileId: string, signal: AbortSignal): Promise<{ mimeType: string; bytes: Uint8Array }>;
}

export interface DocumentResolver {
  /**
   * The request with every PDF / base64-text / file document replaced by a text document, and
   * every file image by a base64 image. Without `files`, a file source is a 400.
   */
  resolve<T extends Pick<MessagesRequest, "messages">>(req: T, signal?: AbortSignal, files?: FileAccess): Promise<T>;
}

export { NO_TEXT_LAYER } from "./pdf-text";

const MAX_REDIRECTS = 5;
const CACHE_ENTRIES = 32;
/** Total characters the cache of PDF texts may hold (one document may have up to 1,000,000). */
const CACHE_CHARS = 4_000_000;

type Source = DocumentBlock["source"];
type TextDocument = DocumentBlock & { source: { type: "text"; media_type: "text/plain"; data: string } };

const needsResolving = (b: unknown): b is DocumentBlock | ImageBlock => {
  const d = b as { type?: unknown; source?: { type?: unknown } } | null;
  const t = d?.source?.type;
  if (d?.type === "document") return t === "base64" || t === "url" || t === "file";
  return d?.type === "image" && t === "file";
};

/** Tool-result content items, when the block is a tool_result with an array content. */
const resultItems = (b: { type: string }): unknown[] | null => {
  const content = b.type === "tool_result" ? (b as ToolResultBlock).content : undefined;
  return Array.isArray(content) ? content : null;
};

const blockHasWork = (b: { type: string }) => needsResolving(b) || (resultItems(b)?.some(needsResolving) ?? false);

// ---- fetching ----

interface Fetched {
  bytes: Uint8Array;
  contentType: string;
}

async function readBounded(res: Response, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new Error(`it is larger than ${maxBytes} bytes`);
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  if (!res.body) return new Uint8Array(0);
  const bytes = await readAllLimited(res.body, maxBytes);
  if (bytes === null || bytes === "timeout") throw tooLarge();
  return bytes;
}

async function fetchDocument(raw: string, opts: DocumentFetchOptions, signal: AbortSignal): Promise<Fetched> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error("it is not a valid URL");
  }
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("only http:// and https:// URLs can be fetched");
    const accept = { accept: "application/pdf, text/*;q=0.9, */*;q=0.1" };
    // The name is resolved once, here: the connection goes to the address that was checked.
    const pinned = pinnedRequest(url, await checkedAddress(url, opts.allowPrivateUrls, opts.lookup));
    const res = await fetch(pinned.url, {
      redirect: "manual",
      signal,
      headers: { ...accept, ...pinned.headers },
      ...(pinned.tls ? { tls: pinned.tls } : {}),
    });
    if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
      await res.body?.cancel().catch(() => {});
      url = new URL(res.headers.get("location")!, url);
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`the server answered HTTP ${res.status}`);
    }
    return { bytes: await readBounded(res, opts.maxBytes), contentType: res.headers.get("content-type") ?? "" };
  }
  throw new Error(`it redirected more than ${MAX_REDIRECTS} times`);
}

// ---- reading ----

export { pdfText } from "./pdf";

function decodeBase64(data: string): Uint8Array {
  const clean = data.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) throw new Error("its data is not valid base64");
  return new Uint8Array(Buffer.from(clean, "base64"));
}

const isTextType = (mediaType: string) => /^text\//i.test(mediaType.trim());
const isPdfType = (mediaType: string) => /^application\/(x-)?pdf\b/i.test(mediaType.trim());

function utf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error("its text is not valid UTF-8");
  }
}

/** Where a block sits, in the words validation errors use. */
const where = (m: number, b: number, inner?: number) =>
  `messages[${m}].content[${b}]${inner === undefined ? "" : `.content[${inner}]`}`;

export function createDocumentResolver(opts: DocumentFetchOptions): DocumentResolver {
  const cache = new TextCache(CACHE_ENTRIES, CACHE_CHARS);

  async function cachedPdfText(bytes: Uint8Array): Promise<string> {
    const key = new Bun.CryptoHasher("sha256").update(bytes).digest("base64");
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const text = await pdfText(bytes);
    cache.set(key, text);
    return text;
  }

  async function textOf(source: Extract<Source, { type: "base64" | "url" }>, signal: AbortSignal): Promise<string> {
    if (source.type === "base64") {
      const bytes = decodeBase64(source.data);
      if (isPdfType(source.media_type)) return cachedPdfText(bytes);
      if (isTextType(source.media_type)) return utf8(bytes);
      throw new Error(`documents of media_type "${source.media_type}" are not supported (send application/pdf or text)`);
    }
    let fetched: Fetched;
    try {
      fetched = await fetchDocument(source.url, opts, signal);
    } catch (e) {
      if (signal.aborted) {
        const timedOut = (signal.reason as Error | undefined)?.name === "TimeoutError";
        throw new Error(timedOut ? `fetching ${source.url} took longer than ${opts.timeoutMs} ms` : "the request was cancelled");
      }
      throw new Error(`${source.url} could not be fetched: ${networkErrorText(e)}`);
    }
    if (isPdfType(fetched.contentType) || startsWithPdfMagic(fetched.bytes)) return cachedPdfText(fetched.bytes);
    if (isTextType(fetched.contentType)) return utf8(fetched.bytes);
    throw new Error(`${source.url} is neither a PDF nor text (content-type "${fetched.contentType || "none"}")`);
  }

  /** A file the request names, read through `files`; errors name the field. */
  async function readFile(fileId: string, at: string, files: FileAccess | undefined, signal: AbortSignal) {
    if (!files) throw invalidRequest(`${at}.source: sources of type "file" are not available here`);
    try {
      return await files.read(fileId, signal);
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) {
        throw new ApiError(e.status, `${at}.source.file_id: ${e.message}`, { type: e.type, retryable: false, ...(e.details ? { details: e.details } : {}) });
      }
      throw e;
    }
  }

  async function fileImage(img: ImageBlock, at: string, files: FileAccess | undefined, signal: AbortSignal): Promise<ImageBlock> {
    const fileId = (img.source as { file_id: string }).file_id;
    const f = await readFile(fileId, at, files, signal);
    if (!/^image\/(jpeg|png|gif|webp)$/.test(f.mimeType)) {
      throw invalidRequest(`${at}.source.file_id: file ${fileId} is ${f.mimeType}, not an image (an image block takes image/jpeg, image/png, image/gif or image/webp)`);
    }
    return { ...img, source: { type: "base64", media_type: f.mimeType, data: Buffer.from(f.bytes).toString("base64") } };
  }

  async function fileText(fileId: string, at: string, files: FileAccess | undefined, signal: AbortSignal): Promise<string> {
    const f = await readFile(fileId, at, files, signal);
    if (isPdfType(f.mimeType)) return cachedPdfText(f.bytes);
    if (isTextType(f.mimeType)) return utf8(f.bytes);
    throw new Error(`file ${fileId} is ${f.mimeType}: a document takes a PDF or a text file${f.mimeType.startsWith("image/") ? " (send it in an image block)" : ""}`);
  }

  async function resolveBlock(block: DocumentBlock | ImageBlock, at: string, signal: AbortSignal, files: FileAccess | undefined): Promise<TextDocument | ImageBlock> {
    if (block.type === "image") return fileImage(block, at, files, signal);
    const doc = block;
    let text: string;
    try {
      text =
        doc.source.type === "file"
          ? await fileText(doc.source.file_id, at, files, signal)
          : await textOf(doc.source as Extract<Source, { type: "base64" | "url" }>, signal);
    } catch (e) {
      if (e instanceof ApiError) throw e; // overloaded: not the document's fault
      throw invalidRequest(`${at}: the document could not be read: ${(e as Error).message}`);
    }
    return { ...doc, source: { type: "text", media_type: "text/plain", data: text } };
  }

  return {
    async resolve(req, clientSignal, files) {
      // Fast path: nothing to do for the vast majority of requests.
      if (!req.messages.some((m) => Array.isArray(m.content) && m.content.some(blockHasWork))) return req;

      const timeout = AbortSignal.timeout(opts.timeoutMs);
      const signal = clientSignal ? AbortSignal.any([timeout, clientSignal]) : timeout;
      const messages = [];
      for (let m = 0; m < req.messages.length; m++) {
        const msg = req.messages[m]!;
        if (!Array.isArray(msg.content)) {
          messages.push(msg);
          continue;
        }
        const content = [];
        for (let b = 0; b < msg.content.length; b++) {
          const block = msg.content[b]!;
          const items = resultItems(block);
          if (needsResolving(block)) content.push(await resolveBlock(block, where(m, b), signal, files));
          else if (items?.some(needsResolving)) {
            const inner = [];
            for (let i = 0; i < items.length; i++) {
              const item = items[i];
              inner.push(needsResolving(item) ? await resolveBlock(item, where(m, b, i), signal, files) : item);
            }
            content.push({ ...block, content: inner });
          } else content.push(block);
        }
        messages.push({ ...msg, content });
      }
      return { ...req, messages };
    },
  };
}
