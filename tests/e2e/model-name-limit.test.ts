/**
 * Model names longer than 256 characters are refused (400, in the face's envelope) before any
 * matching, on every face; and a name of 1 MB — which once kept the CPU busy for minutes in
 * the model-name matching — is refused at once while /health keeps answering (issue 20 §5).
 */
import { APIError as AnthropicError } from "@anthropic-ai/sdk";
import { APIError as OpenAIError } from "openai";
import { describe, expect, test } from "bun:test";
import { logText } from "../helpers/gateway";
import { useGateway, useResponsesGateway } from "../helpers/setup";

const chat = useGateway({ modelMap: { "claude-*-sonnet-*x": "grok-4" } });
const responses = useResponsesGateway();

const TOO_LONG = "grok-" + "x".repeat(252); // 257 characters
const SAYS = "model: must be at most 256 characters (got 257)";
const messages = [{ role: "user" as const, content: "hi" }];

async function refusal(p: Promise<unknown>): Promise<{ status: number; error: any }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof AnthropicError || err instanceof OpenAIError) return { status: err.status ?? 0, error: err.error };
  throw new Error(`expected an API error, got ${String(err)}`);
}

describe("a model name past 256 characters is a 400 before anything is matched or sent", () => {
  test("/v1/messages and count_tokens: the Anthropic envelope", async () => {
    for (const call of [
      chat.client.messages.create({ model: TOO_LONG, max_tokens: 5, messages }),
      chat.client.messages.countTokens({ model: TOO_LONG, messages }),
    ]) {
      const { status, error } = await refusal(call);
      expect(status).toBe(400);
      expect(error.type).toBe("error");
      expect(error.error.type).toBe("invalid_request_error");
      expect(error.error.message).toBe(SAYS);
    }
    expect(chat.fake.requests).toHaveLength(0);
    // 256 characters is still a name.
    const ok = await chat.client.messages.create({ model: TOO_LONG.slice(1), max_tokens: 5, messages });
    expect(ok.content[0]).toMatchObject({ type: "text" });
    expect(chat.fake.last.body.model).toBe(TOO_LONG.slice(1));
  });

  test("/v1/chat/completions and /v1/responses: the OpenAI envelope", async () => {
    for (const call of [
      chat.openai.chat.completions.create({ model: TOO_LONG, messages }),
      responses.openai.responses.create({ model: TOO_LONG, input: "hi" }),
    ]) {
      const { status, error } = await refusal(call);
      expect(status).toBe(400);
      expect(error).toMatchObject({ type: "invalid_request_error", message: SAYS });
    }
    expect(chat.fake.requests).toHaveLength(0);
    expect(responses.fake.requests).toHaveLength(0);
  });

  test("GET /v1/models/{id} too", async () => {
    const res = await fetch(`${chat.gw.url}/v1/models/${TOO_LONG}`, { headers: { "x-api-key": "k" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toBe("model id: must be at most 256 characters (got 257)");
  });

  test("a name of 1 MB is refused while /health answers", async () => {
    const MB = 1024 * 1024;
    for (const model of ["[".repeat(MB), "claude-" + "-sonnet-".repeat(MB / 8)]) {
      const big = fetch(`${chat.gw.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "k" },
        body: JSON.stringify({ model, max_tokens: 5, messages }),
      });
      // Asked while the big request is being served: answered (the matching once held the server for minutes).
      const health = await fetch(`${chat.gw.url}/health`);
      expect(health.status).toBe(200);
      const res = await big;
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toBe(`model: must be at most 256 characters (got ${model.length})`);
    }
    // The server's own time for each, from its access log: far below the minutes it once took (a generous bound).
    const lines = (await logText(chat.gw.logFile, (t) => t.split('"status":400').length > 2))
      .split("\n")
      .filter((l) => l.includes('"path":"/v1/messages"') && l.includes('"status":400'))
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l.duration_ms).toBeLessThan(2000);
    expect(chat.fake.requests).toHaveLength(0);
  });
});
