/**
 * Requests a batch run here sends to the app's own /v1/messages: they carry this process's
 * secret token and the batch's id, and run as the batch's owner — its virtual key (checked
 * again: a key revoked since is refused), or the client's own upstream key when the gateway
 * forwards keys. Any other request is authenticated as usual.
 */
import type { Authenticator } from "../http/auth";
import { ApiError } from "../http/errors";
import type { TeamsHandle } from "../deps";
import { BATCH_HEADER, INTERNAL_HEADER, type BatchService } from "./service";

export function withBatchCallers(auth: Authenticator, batches: BatchService | undefined, teams: TeamsHandle | undefined): Authenticator {
  if (!batches) return auth;
  return (headers, rc) => {
    const token = headers.get(INTERNAL_HEADER);
    if (token === null) return auth(headers, rc);
    const who = batches.internalIdentity(token, headers.get(BATCH_HEADER) ?? "");
    if (!who) throw new ApiError(401, "invalid API key", { retryable: false });
    if (rc) rc.entry.batch_id = who.batchId;
    if (!who.key) return who.upstreamKey;
    const key = who.key;
    const check = (t: NonNullable<TeamsHandle["current"]>) => {
      const k = t.keys.get(key.id);
      if (!k || k.revoked_at) throw new ApiError(401, `the API key this batch was created with ("${key.name}") was revoked`, { retryable: false });
      if (k.expires_at && Date.parse(k.expires_at) <= Date.now()) {
        throw new ApiError(401, `the API key this batch was created with ("${key.name}") expired at ${k.expires_at}`, { retryable: false });
      }
      if (rc) {
        rc.key = { id: k.id, name: k.name };
        rc.entry.key_name = k.name;
      }
      return who.upstreamKey;
    };
    if (!teams) return who.upstreamKey;
    return teams.current ? check(teams.current) : teams.ready.then(check);
  };
}
