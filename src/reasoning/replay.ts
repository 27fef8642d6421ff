/**
 * The route's side of the reasoning store: find what it kept for the turns a request sends back
 * without their reasoning (before translation, which stays pure and synchronous), and keep what
 * an answer's reasoning was (before the answer's last bytes, so the client's next turn finds it).
 */
import type { MessagesRequest } from "../anthropic/schema";
import { recordReasoningStore } from "../metrics";
import type { KeptReasoning } from "../dialects/responses/stream";
import { turnsToRestore, turnsToRestoreSliced, type StoredReasoning } from "../dialects/turn-digest";
import type { Slicer } from "../http/slicer";
import type { ReasoningStore } from "./store";

/**
 * Whose turns these are: the virtual key's id, else a digest of the client's own forwarded key,
 * else everyone on this gateway ("-"). A turn is only ever restored for the same caller.
 */
export function reasoningScope(virtualKeyId: string | undefined, clientKey: string | undefined): string {
  if (virtualKeyId) return `v:${virtualKeyId}`;
  if (clientKey) return `k:${new Bun.CryptoHasher("sha256").update(clientKey).digest("base64url").slice(0, 22)}`;
  return "-";
}

/** What the store kept for the assistant turns that do not carry their reasoning, by the turn's ordinal; undefined when none. */
export async function findRestored(
  store: ReasoningStore,
  scope: string,
  messages: MessagesRequest["messages"],
  /** Set for a large request: the turns are digested in slices. */
  slicer?: Slicer,
): Promise<ReadonlyMap<number, readonly StoredReasoning[]> | undefined> {
  const turns = slicer ? await turnsToRestoreSliced(messages, slicer) : turnsToRestore(messages);
  if (turns.length === 0) return undefined;
  const digests = turns.map((t) => t.digest);
  const found = slicer ? await getManySliced(store, scope, digests, slicer) : await store.getMany(scope, digests);
  const restored = new Map<number, readonly StoredReasoning[]>();
  found.forEach((items, k) => {
    if (items?.length) restored.set(turns[k]!.ordinal, items);
  });
  recordReasoningStore("hit", restored.size);
  recordReasoningStore("miss", turns.length - restored.size);
  return restored.size ? restored : undefined;
}

/** Digests asked of the store at a time for a large request (between two, the event loop may have a turn). */
const DIGESTS_PER_ASK = 2048;

async function getManySliced(store: ReasoningStore, scope: string, digests: readonly string[], slicer: Slicer): Promise<Array<StoredReasoning[] | undefined>> {
  const found: Array<StoredReasoning[] | undefined> = [];
  for (let at = 0; at < digests.length; at += DIGESTS_PER_ASK) {
    if (at > 0) await slicer.pause();
    found.push(...(await store.getMany(scope, digests.slice(at, at + DIGESTS_PER_ASK))));
  }
  return found;
}

/** Keeps an answer's reasoning under its turn's digest (a promise while a Redis write is on its way). */
export function keepReasoning(store: ReasoningStore | undefined, scope: string, kept: KeptReasoning | undefined): void | Promise<void> {
  if (!store || !kept || kept.items.length === 0) return;
  recordReasoningStore("stored");
  return store.put(scope, kept.digest, kept.items);
}
