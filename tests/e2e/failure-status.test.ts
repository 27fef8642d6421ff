/**
 * One upstream failure gets one status, streamed or not: the same scripted failure after the
 * upstream's 200 (its connection dropping mid-answer, an answer cut short, the upstream saying it
 * failed) is `502 api_error` as a JSON answer, as the stop-sequence path's JSON answer (read from a
 * stream), and as the `event: error` that ends a stream; on the OpenAI chat face, the same type in
 * the error body and in the relayed stream's error event.
 */
import { describe, expect, test } from "bun:test";
import { chunk, completion, controlledStream, sseResponse, streamOf, type Handler } from "../helpers/fake-upstream";
import { answer, responseObject, responsesSse, scriptEvents, scriptOutput } from "../helpers/fake-responses";
import { parseSSE, resilience } from "../helpers/gateway";
import { useGateway, useResponsesGateway, type Harness } from "../helpers/setup";

const ask = { model: "grok-4", max_tokens: 50, messages: [{ role: "user", content: "hi" }] };

/** The error type a client gets three ways: JSON, JSON read from a stream (stop sequences), and the stream's event: error. */
async function threeWays(h: Harness, path = "/v1/messages") {
  const post = async (body: unknown) => {
    const res = await fetch(`${h.gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  };
  const plain = await post(ask);
  const viaStop = await post({ ...ask, stop_sequences: ["NEVER"] });
  const streamed = await post({ ...ask, stream: true });
  const last = parseSSE(streamed.text).at(-1)!;
  return {
    plain: { status: plain.status, type: JSON.parse(plain.text).error?.type },
    viaStop: { status: viaStop.status, type: JSON.parse(viaStop.text).error?.type },
    streamed: { status: streamed.status, event: last.event, type: last.data?.error?.type },
  };
}

const expectOneType = (r: Awaited<ReturnType<typeof threeWays>>) => {
  expect(r.plain).toEqual({ status: 502, type: "api_error" });
  expect(r.viaStop).toEqual({ status: 502, type: "api_error" });
  expect(r.streamed).toEqual({ status: 200, event: "error", type: "api_error" });
};

/** A body that sends `first`, then drops the connection. */
const cutAfter = (first: string): Response => {
  const s = controlledStream();
  s.push(first);
  setTimeout(() => s.cut(), 5);
  return s.response;
};

describe("chat completions upstream", () => {
  const h = useGateway({ resilience: resilience({ maxRetries: 0 }) });
  const on = (plain: Handler, stream: Handler) => h.fake.on((req, n) => (req.body?.stream ? stream(req, n) : plain(req, n)));

  test("the connection drops mid-answer", async () => {
    on(
      () => cutAfter(JSON.stringify(completion({ content: "Hello there" })).slice(0, 60)),
      () => cutAfter(`data: ${JSON.stringify(chunk({ content: "Hello", role: "assistant" }))}\n\n`),
    );
    expectOneType(await threeWays(h));
  });

  test("the answer ends before it is complete", async () => {
    on(
      () => new Response(JSON.stringify(completion({ content: "Hello there" })).slice(0, 60), { headers: { "content-type": "application/json" } }),
      () => streamOf([chunk({ content: "Hello", role: "assistant" })], { done: false }),
    );
    expectOneType(await threeWays(h));
  });

  test("the upstream says it failed, in its 200", async () => {
    on(
      () => Response.json({ error: { message: "the model crashed while sampling" } }),
      () => sseResponse(`data: ${JSON.stringify(chunk({ content: "Hello", role: "assistant" }))}\n\ndata: ${JSON.stringify({ error: { message: "the model crashed while sampling" } })}\n\n`),
    );
    expectOneType(await threeWays(h));
  });

  test("the OpenAI chat face: the connection dropping mid-answer is the same type in the body and in the stream's error event", async () => {
    on(
      () => cutAfter(JSON.stringify(completion({ content: "Hello there" })).slice(0, 60)),
      () => cutAfter(`data: ${JSON.stringify(chunk({ content: "Hello", role: "assistant" }))}\n\n`),
    );
    const post = async (stream: boolean) => {
      const res = await fetch(`${h.gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "grok-4", messages: [{ role: "user", content: "hi" }], stream }),
      });
      return { status: res.status, text: await res.text() };
    };
    const plain = await post(false);
    const streamed = await post(true);
    expect(plain.status).toBe(502);
    const lastEvent = JSON.parse(streamed.text.trim().split("\n\n").at(-1)!.slice("data: ".length));
    expect(lastEvent.error.type).toBe(JSON.parse(plain.text).error.type);
  });
});

describe("Responses upstream", () => {
  const h = useResponsesGateway({ resilience: resilience({ maxRetries: 0 }) });

  test("response.failed", async () => {
    const failed = { error: { code: "internal", message: "model overloaded" } };
    h.fake.on((req) => {
      const s = { text: ["Hel"] };
      if (!req.body?.stream) return Response.json({ ...responseObject(scriptOutput(s), s, "failed"), ...failed });
      const events = scriptEvents(s).slice(0, -1);
      events.push({ type: "response.failed", response: { ...responseObject([], s, "failed"), ...failed } });
      return sseResponse(responsesSse(events));
    });
    expectOneType(await threeWays(h));
  });

  test("the connection drops mid-answer", async () => {
    h.fake.on((req) =>
      req.body?.stream
        ? cutAfter(responsesSse(scriptEvents({ text: ["Hello", " there"] }).slice(0, 4)))
        : cutAfter(JSON.stringify(responseObject(scriptOutput({ text: ["Hello"] }), {}, "completed")).slice(0, 80)),
    );
    expectOneType(await threeWays(h));
  });

  test("control: a whole answer is a 200 all three ways", async () => {
    h.fake.on(answer({ text: ["fine"] }));
    const post = (body: unknown) => fetch(`${h.gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    for (const body of [ask, { ...ask, stop_sequences: ["NEVER"] }, { ...ask, stream: true }]) {
      const res = await post(body);
      expect(res.status).toBe(200);
      expect(await res.text()).not.toContain("error");
    }
  });
});
