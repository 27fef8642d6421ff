/**
 * A fake xAI with prices, for the budget tests: its catalog lists grok-3-mini at 100 ticks a prompt
 * token and 1000 a completion token, and each answer uses 4 prompt tokens and every completion
 * token the request allowed (billed accordingly in `cost_in_usd_ticks`).
 */
import type { Gateway } from "./gateway";
import { completion, streamOf, textChunks, usage, type FakeUpstream, type Handler, type Recorded } from "./fake-upstream";

export const PROMPT_PRICE = 100;
export const COMPLETION_PRICE = 1000;
export const PROMPT_TOKENS = 4;

export const PRICED_MODELS = {
  models: [
    {
      id: "grok-3-mini",
      fingerprint: "fp_test",
      created: 1770000000,
      object: "model",
      owned_by: "xai",
      version: "1.0",
      input_modalities: ["text"],
      output_modalities: ["text"],
      prompt_text_token_price: PROMPT_PRICE,
      cached_prompt_text_token_price: 25,
      completion_text_token_price: COMPLETION_PRICE,
      aliases: [],
    },
  ],
};

const allowed = (req: Recorded) => Number(req.body?.max_completion_tokens ?? req.body?.max_tokens ?? req.body?.max_output_tokens ?? 16);

/** What an answer to `req` costs. */
export const answerCost = (req: Recorded) => PROMPT_TOKENS * PROMPT_PRICE + allowed(req) * COMPLETION_PRICE;

/** The handler: the catalog, and chat completions (JSON or stream) using every token allowed. */
export function pricedAnswer(opts: { delayMs?: number; headers?: Record<string, string> } = {}): Handler {
  return async (req) => {
    if (req.path === "/v1/language-models") return Response.json(PRICED_MODELS);
    if (opts.delayMs) await Bun.sleep(opts.delayMs);
    const u = { ...usage(PROMPT_TOKENS, allowed(req)), cost_in_usd_ticks: answerCost(req) };
    const res = req.body?.stream ? streamOf(textChunks("ok", { finish: "length", usage: u })) : Response.json(completion({ content: "ok" }, "length", u));
    for (const [k, v] of Object.entries(opts.headers ?? {})) res.headers.set(k, v);
    return res;
  };
}

/** Ticks the fake billed for the chat completions it answered. */
export const servedCost = (fake: FakeUpstream) =>
  fake.requests.filter((r) => r.path.endsWith("/chat/completions")).reduce((sum, r) => sum + answerCost(r), 0);

/**
 * Once the gateway knows the catalog's prices (listing the models waits for a catalog read; on a
 * busy machine a read may time out, and the catalog is read again 30 s later). A bounded wait.
 */
export async function waitForPrices(g: Gateway, key: string): Promise<void> {
  let ids: string[] = [];
  for (let i = 0; i < 450; i++) {
    const res = await fetch(`${g.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    ids = ((await res.json()) as { data?: Array<{ id: string }> }).data?.map((m) => m.id) ?? [];
    if (ids.includes("grok-3-mini")) return;
    await Bun.sleep(100);
  }
  throw new Error(`the catalog is not known yet: ${JSON.stringify(ids)}`);
}
