/**
 * The upload thread (started by upload-thread.ts from bundled source): a large upload's
 * multipart body → its checked file and SHA-256 (parseUpload), so that parsing and hashing
 * hundreds of megabytes never holds the thread that serves requests.
 * In: `{ id, raw, contentType, limits }` (raw transferred). Out: `{ id, result }` where result
 * is the Upload (its bytes transferred back) or `{ refused: ApiErrorData }`.
 */
import { ApiError, apiErrorData } from "../http/errors";
import { parseUpload, type UploadLimits } from "./upload";

declare const self: Worker;

self.onmessage = async (e: MessageEvent<{ id: number; raw: Uint8Array; contentType: string; limits: UploadLimits }>) => {
  const { id, raw, contentType, limits } = e.data;
  try {
    const up = await parseUpload(raw, contentType, limits);
    self.postMessage({ id, result: up }, [up.bytes.buffer as ArrayBuffer]); // cast: the file's own buffer, never shared
  } catch (err) {
    if (err instanceof ApiError) self.postMessage({ id, result: { refused: apiErrorData(err) } });
    else self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
