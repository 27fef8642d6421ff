/**
 * xAI's Files API, as the gateway uses it: upload (multipart, `expires_after` before `file`,
 * as xAI requires), download, delete. Calls go to the primary upstream only, with its keys
 * (or the client's own key when the gateway forwards keys). Shapes: reference §2.2.
 */
import { ApiError } from "../http/errors";
import { readAllLimited } from "../http/body";
import type { UpstreamClient } from "../upstream/client";

/** xAI's cap on one file (413 above it). */
export const XAI_MAX_FILE_BYTES = 50 * 1024 * 1024;
/** xAI's longest `expires_after`: 30 days. */
export const XAI_MAX_EXPIRY_SECONDS = 2_592_000;

export interface XaiFile {
  id: string;
  bytes?: number;
  filename?: string;
}

export class XaiFiles {
  constructor(
    private readonly client: UpstreamClient,
    private readonly key: string | undefined,
  ) {}

  async upload(filename: string, mime: string, bytes: Uint8Array, expiresInSeconds: number | undefined, signal: AbortSignal): Promise<XaiFile> {
    const form = new FormData();
    // xAI reads `expires_after` only when it comes before `file`.
    if (expiresInSeconds !== undefined) form.append("expires_after", String(expiresInSeconds));
    form.append("file", new Blob([bytes], { type: mime }), filename);
    const res = await this.client.post({ path: "/files", form, key: this.key, signal });
    const file = (await res.json().catch(() => null)) as XaiFile | null;
    if (!file || typeof file.id !== "string") throw new ApiError(502, "xAI's Files API answered an upload without a file id", { type: "api_error" });
    return file;
  }

  async download(id: string, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
    const res = await this.client.post({ path: `/files/${encodeURIComponent(id)}/content`, key: this.key, signal });
    if (!res.body) return new Uint8Array(0);
    const bytes = await readAllLimited(res.body, maxBytes);
    if (bytes === null || bytes === "timeout") throw new ApiError(502, `xAI sent more than ${maxBytes} bytes for file ${id}`, { type: "api_error" });
    return bytes;
  }

  async remove(id: string, signal: AbortSignal): Promise<void> {
    const res = await this.client.post({ path: `/files/${encodeURIComponent(id)}`, method: "DELETE", key: this.key, signal });
    await res.body?.cancel().catch(() => {});
  }
}
