/**
 * A stable conversation id for xAI's prompt cache (`x-grok-conv-id`), so every
 * turn of a session is routed to the same cache. Claude Code names its session in
 * the `x-claude-code-session-id` header and in `metadata.user_id`, which is either
 * JSON (`{"device_id":…,"session_id":"<uuid>"}`) or `user_<hash>_account__session_<uuid>`.
 */

import { isRecord } from "../is-record";

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export function sessionFromUserId(userId: string | null | undefined): string | undefined {
  if (!userId) return undefined;
  if (userId.startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(userId);
      if (isRecord(parsed) && typeof parsed.session_id === "string" && SAFE_ID.test(parsed.session_id)) return parsed.session_id;
    } catch {
      // not JSON after all
    }
  }
  const m = /_session_([A-Za-z0-9-]{8,128})$/.exec(userId);
  return m?.[1];
}

export function conversationId(sessionHeader: string | null, userId: string | null | undefined): string | undefined {
  const header = sessionHeader?.trim();
  if (header && SAFE_ID.test(header)) return header;
  return sessionFromUserId(userId);
}
