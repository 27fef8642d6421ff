/**
 * Reading a non-streamed upstream answer with a bound: an upstream (or something posing
 * as one) that sends a gigabyte must not take the process's memory with it.
 */
import { DEFAULTS } from "../config";
import { ApiError } from "../http/errors";

const mb = (n: number) => (n >= 1024 * 1024 ? `${Math.round(n / (1024 * 1024))} MB` : `${Math.round(n / 1024)} KB`);

export function responseTooLarge(maxBytes: number): ApiError {
  return new ApiError(502, `the upstream's answer is larger than the ${mb(maxBytes)} limit (max_response_bytes)`, {
    type: "api_error",
    retryable: false,
  });
}

/**
 * The whole body, or a 502 ApiError as soon as it passes `maxBytes` (the rest is not
 * read; the upstream connection is cancelled). Network errors while reading propagate.
 */
export async function readBounded(res: Response, maxBytes: number = DEFAULTS.maxResponseBytes): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw responseTooLarge(maxBytes);
  }
  if (!res.body) return new Uint8Array(0);
  // A declared length within the bound, not compressed, is all there can be (HTTP framing
  // ends the body there): Bun's native read, without a JavaScript stream reader and a copy
  // of the parts. (A compressed body is decoded as it is read: only counting bounds that.)
  if (Number.isFinite(declared) && !res.headers.has("content-encoding")) return res.bytes();
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw responseTooLarge(maxBytes);
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** The body parsed as JSON, read with the bound; a SyntaxError when it is not JSON. */
export async function readJsonBounded(res: Response, maxBytes: number = DEFAULTS.maxResponseBytes): Promise<unknown> {
  return JSON.parse(new TextDecoder().decode(await readBounded(res, maxBytes)));
}
