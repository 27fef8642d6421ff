/**
 * An upload as Anthropic's Files API takes it (multipart: `file`, optional
 * `expires_in_seconds`), read within its own size limit and checked: the filename
 * (1–255 characters, none of < > : " | ? * \ / or control characters), the size, the
 * expiry, and the type (a file the gateway can use: a PDF or text for document blocks,
 * JPEG, PNG, GIF or WebP for image blocks). Errors name the field.
 */
import { readLimited } from "../http/body";
import { ApiError, invalidRequest } from "../http/errors";
import type { UploadThread } from "./upload-thread";

export interface Upload {
  filename: string;
  mimeType: string;
  bytes: Uint8Array;
  expiresInSeconds: number | undefined;
  /** The bytes' SHA-256, hex. */
  sha256: string;
}

/** Anthropic's bounds for `expires_in_seconds`: 1 hour to 90 days. */
export const MIN_EXPIRY_SECONDS = 3600;
export const MAX_EXPIRY_SECONDS = 7_776_000;
/** Room for the multipart framing around the file. */
const FRAMING_BYTES = 64 * 1024;

export const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
export const isPdf = (mime: string) => mime === "application/pdf";
export const isText = (mime: string) => mime.startsWith("text/");
export const isImage = (mime: string) => IMAGE_TYPES.includes(mime);

const FORBIDDEN_NAME = /[<>:"|?*\\/\x00-\x1f]/;

export const mb = (n: number) => (n >= 1024 * 1024 ? `${Math.round((n / (1024 * 1024)) * 10) / 10} MB` : `${n} bytes`);

function tooLargeFile(limit: number, why: string): ApiError {
  return new ApiError(413, `file: the upload is larger than ${mb(limit)}, the most a file may have ${why}`, {
    type: "request_too_large",
    retryable: false,
    headers: { connection: "close" },
  });
}

/** The type a file is taken as: what its part says, else what its name says; without parameters. */
function typeOf(part: File): string {
  const declared = part.type.split(";")[0]!.trim().toLowerCase();
  if (declared && declared !== "application/octet-stream") return declared;
  const guessed = Bun.file(part.name || "x").type.split(";")[0]!.trim().toLowerCase();
  return guessed || declared || "application/octet-stream";
}

const startsWith = (b: Uint8Array, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);

/** Whether the bytes look like the type they claim (the kinds the gateway reads: PDF and the four image types). */
function bytesMatch(mime: string, b: Uint8Array): boolean {
  switch (mime) {
    case "application/pdf":
      return new TextDecoder().decode(b.subarray(0, 1024)).includes("%PDF-");
    case "image/png":
      return startsWith(b, [0x89, 0x50, 0x4e, 0x47]);
    case "image/jpeg":
      return startsWith(b, [0xff, 0xd8, 0xff]);
    case "image/gif":
      return startsWith(b, [0x47, 0x49, 0x46, 0x38]);
    case "image/webp":
      return startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b, [0x57, 0x45, 0x42, 0x50], 8);
    default:
      return true;
  }
}

/** What an upload is checked against: `limit`, the largest file, and `why`, what sets it (said in the 413); `maxExpirySeconds`, the longest expiry the place the file goes can keep. */
export interface UploadLimits {
  limit: number;
  why: string;
  maxExpirySeconds: number;
}

/** Uploads from this size are read (multipart parsed, checked, hashed) on the upload thread, never on the one that serves requests. */
export const LARGE_UPLOAD_BYTES = 512 * 1024;

/**
 * Reads and checks an upload: its body within the limit (`timeoutMs`: body_timeout), then its
 * parts (parseUpload): here for a small one, on the upload thread (`thread`) for a large one.
 */
export async function readUpload(request: Request, limits: UploadLimits, timeoutMs: number, thread: UploadThread): Promise<Upload> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw invalidRequest("expected a multipart/form-data body with the file in a part named \"file\"");
  }
  let raw: Uint8Array;
  try {
    raw = await readLimited(request, limits.limit + FRAMING_BYTES, timeoutMs);
  } catch (e) {
    if (e instanceof ApiError && e.status === 413) throw tooLargeFile(limits.limit, limits.why);
    throw e;
  }
  if (raw.byteLength < LARGE_UPLOAD_BYTES) return parseUpload(raw, contentType, limits);
  return thread.parse(raw, contentType, limits);
}

/**
 * An upload's multipart body, parsed and checked: the `file` part (filename, size, type, the
 * bytes matching the type), `expires_in_seconds`; and the file's SHA-256. Throws the ApiError
 * that says what is wrong.
 */
export async function parseUpload(raw: Uint8Array, contentType: string, limits: UploadLimits): Promise<Upload> {
  const { limit, why, maxExpirySeconds } = limits;
  let form: Awaited<ReturnType<Response["formData"]>>;
  try {
    form = await new Response(raw, { headers: { "content-type": contentType } }).formData();
  } catch {
    throw invalidRequest("the multipart/form-data body could not be read");
  }
  const part = form.get("file");
  if (part === null) throw invalidRequest("file: Field required");
  if (typeof part === "string") throw invalidRequest("file: expected a file (a part with a filename), got a text field");
  const file = part as File;
  const filename = file.name ?? "";
  if (filename.length < 1 || filename.length > 255) throw invalidRequest(`file: the filename must have 1 to 255 characters (got ${filename.length})`);
  if (FORBIDDEN_NAME.test(filename)) throw invalidRequest(`file: the filename ${JSON.stringify(filename)} contains a character that is not allowed (< > : " | ? * \\ / or a control character)`);
  if (file.size > limit) throw tooLargeFile(limit, why);
  if (file.size === 0) throw invalidRequest("file: the file is empty");

  let expiresInSeconds: number | undefined;
  const exp = form.get("expires_in_seconds");
  if (exp !== null) {
    const n = typeof exp === "string" && /^\d+$/.test(exp.trim()) ? Number(exp.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < MIN_EXPIRY_SECONDS || n > MAX_EXPIRY_SECONDS) {
      throw invalidRequest(`expires_in_seconds: expected an integer from ${MIN_EXPIRY_SECONDS} to ${MAX_EXPIRY_SECONDS} (got ${JSON.stringify(typeof exp === "string" ? exp : "a file")})`);
    }
    if (n > maxExpirySeconds) {
      throw invalidRequest(`expires_in_seconds: at most ${maxExpirySeconds} here (xAI's Files API keeps a file at most 30 days; got ${n})`);
    }
    expiresInSeconds = n;
  }

  const mimeType = typeOf(file);
  if (!isPdf(mimeType) && !isText(mimeType) && !isImage(mimeType)) {
    throw invalidRequest(
      `file: files of type ${mimeType} cannot be used through this gateway (documents take application/pdf or text/*, images ${IMAGE_TYPES.join(", ")})`,
    );
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (!bytesMatch(mimeType, bytes)) throw invalidRequest(`file: the content is not ${mimeType} (${JSON.stringify(filename)})`);
  const sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  return { filename, mimeType, bytes, expiresInSeconds, sha256 };
}
