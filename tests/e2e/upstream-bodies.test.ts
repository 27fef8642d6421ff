/** Chat completions dialect: a 200 whose body is broken is a 502 api_error with a plain message, never a 500. */
import { expect, test } from "bun:test";
import { completion } from "../helpers/fake-upstream";
import { useGateway } from "../helpers/setup";

const h = useGateway();

test("truncated, empty, null, wrong-typed and dropped bodies → 502 api_error", async () => {
  const good = JSON.stringify(completion({ content: "hi" }));
  const json = (v: unknown) => () => Response.json(v);
  const bodies: Array<() => Response> = [
    () => new Response(good.slice(0, 50), { headers: { "content-type": "application/json" } }),
    () => new Response("", { headers: { "content-type": "application/json" } }),
    json(null),
    json({ ...JSON.parse(good), usage: { prompt_tokens: "12", completion_tokens: 1 } }),
    json({ ...JSON.parse(good), choices: [{ index: 0, message: { role: "assistant", content: "x", tool_calls: "f" }, finish_reason: "stop" }] }),
    json({ ...JSON.parse(good), choices: "x" }),
    () => {
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode(good.slice(0, 40)));
          setTimeout(() => c.error(new Error("connection reset")), 5);
        },
      });
      return new Response(stream, { headers: { "content-type": "application/json" } });
    },
  ];
  for (const body of bodies) {
    h.fake.on(body);
    const res = await fetch(`${h.gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "test" },
      body: JSON.stringify({ model: "grok-4.3", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(502);
    const e = ((await res.json()) as { error: { type: string; message: string } }).error;
    expect(e.type).toBe("api_error");
    expect(e.message).toMatch(/^the upstream /);
  }
  expect(h.fake.last.path).toBe("/v1/chat/completions");
});
