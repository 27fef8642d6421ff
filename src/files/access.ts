/** The caller's files, as the document resolver reads them for a message that names one by `file_id`. */
import type { AppDeps } from "../deps";
import type { FileAccess } from "../documents/resolver";
import type { RequestContext } from "../http/context";
import { ownerOf } from "../records/owner";

export function fileAccess(deps: AppDeps, headers: Headers, rc: RequestContext | undefined, clientKey: string | undefined): FileAccess | undefined {
  const files = deps.files;
  if (!files) return undefined;
  const who = { owner: ownerOf(headers, rc), key: clientKey };
  return {
    async read(id, signal) {
      const { file, bytes } = await files.read(deps, who, id, signal);
      return { mimeType: file.mime_type, bytes };
    },
  };
}
