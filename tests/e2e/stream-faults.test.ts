/**
 * Streams under stress: an upstream cut mid-way, a client that goes away
 * (before the first byte, mid-stream, during a backoff), keep-alive pings while the
 * upstream is silent, and 200 concurrent streams.
 */
import Anthropic from "@anthropic-ai/sdk";
import { beforeAll, describe, expect, test } from "bun:test";
import { chunk, controlledStream, hang, streamOf, textChunks, usage, usageChunk, within } from "../helpers/fake-upstream";
import { parseSSE, resilience, type Gateway } from "../helpers/gateway";
import { clientFor, useGateway } from "../helpers/setup";

const request = { model: "grok-4", max_tokens: 50, messages: [{ role: "user" as const, content: "hi" }] };
const postStream = (gw: Gateway, signal?: AbortSignal, model = request.model) =>
  fetch(`${gw.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...request, model, stream: true }),
    signal,
  });

/** Reads SSE frames as they arrive; stops at `until` or the end. Bounded by the stream itself. */
async function readEvents(
  res: Response,
  until: (events: Array<{ event: string | null; data: any }>) => boolean = () => false,
): Promise<Array<{ event: string | null; data: any }>> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const events: Array<{ event: string | null; data: any }> = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    const cut = buf.lastIndexOf("\n\n");
    if (cut === -1) continue;
    events.push(...parseSSE(buf.slice(0, cut + 2)));
    buf = buf.slice(cut + 2);
    if (until(events)) {
      reader.releaseLock();
      break;
    }
  }
  return events;
}

/** Polls the access log for a line matching `pred`; bounded. */
async function logLine(file: string, pred: (entry: any) => boolean, maxMs = 2000): Promise<any | undefined> {
  for (let waited = 0; waited <= maxMs; waited += 20) {
    const text = await Bun.file(file)
      .text()
      .catch(() => "");
    for (const line of text.split("\n")) {
      if (!line) continue;
      const entry = JSON.parse(line);
      if (pred(entry)) return entry;
    }
    await Bun.sleep(20);
  }
  return undefined;
}

describe("upstream failures mid-stream", () => {
  const rig = useGateway({ resilience: resilience({ maxRetries: 0 }) });
  let client: Anthropic;
  beforeAll(() => {
    client = clientFor(rig.gw, "local");
  });

  test("connection cut mid-way: event: error api_error (the type a JSON answer would get), no message_stop", async () => {
    const s = controlledStream();
    rig.fake.on(() => {
      s.push(chunk({ content: "The beginning", role: "assistant" }));
      return s.response;
    });
    const res = await postStream(rig.gw);
    // Cut only once the first words have reached the client: the 200 is long sent.
    const before = await readEvents(res, (ev) => ev.some((e) => e.event === "content_block_delta"));
    s.cut();
    const events = [...before, ...(await readEvents(res))];
    const types = events.map((e) => e.event);
    expect(types.slice(0, 3)).toEqual(["message_start", "content_block_start", "content_block_delta"]);
    expect(types).not.toContain("message_stop");
    expect(types).not.toContain("message_delta");
    expect(events.at(-1)).toMatchObject({ event: "error", data: { type: "error", error: { type: "api_error" } } });
  });

  test("a clean close before the message is complete is an error too", async () => {
    rig.fake.on(() => streamOf([chunk({ content: "Half a sen", role: "assistant" })], { done: false }));
    const events = parseSSE(await (await postStream(rig.gw)).text());
    expect(events.map((e) => e.event)).not.toContain("message_stop");
    expect(events.at(-1)).toMatchObject({ event: "error", data: { error: { type: "api_error" } } });
  });

  test("an error event from the upstream mid-stream keeps its words", async () => {
    rig.fake.on(() =>
      streamOf([chunk({ content: "Hi", role: "assistant" }), { code: "Internal", error: "Upstream model crashed while sampling" }]),
    );
    const err = await client.messages
      .stream(request)
      .finalMessage()
      .catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String(err.message)).toContain("Upstream model crashed while sampling");
  });

  test("the server stays healthy after broken streams", async () => {
    rig.fake.on(() => streamOf(textChunks("still fine")));
    const final = await client.messages.stream(request).finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "still fine" }] as never);
  });
});

describe("client disconnects close the upstream request", () => {
  const rig = useGateway({ resilience: resilience({ maxRetries: 3, backoffInitialMs: 60_000, backoffMaxMs: 60_000 }) });

  test("control: a stream read to its end is not aborted upstream", async () => {
    rig.fake.on(() => streamOf(textChunks("complete")));
    const events = parseSSE(await (await postStream(rig.gw)).text());
    expect(events.at(-1)!.event).toBe("message_stop");
    expect(rig.fake.last.aborted()).toBe(false);
  });

  test("mid-stream: the upstream connection is closed within a second", async () => {
    const s = controlledStream();
    rig.fake.on(() => {
      s.push(chunk({ content: "Once upon a time", role: "assistant" }));
      return s.response;
    });
    const ac = new AbortController();
    const res = await postStream(rig.gw, ac.signal);
    const seen = await readEvents(res, (ev) => ev.some((e) => e.event === "content_block_delta"));
    expect(seen.map((e) => e.event)).toContain("content_block_delta");
    expect(rig.fake.last.aborted()).toBe(false);
    ac.abort();
    expect(await within(rig.fake.last.closed, 1000)).toBe(true);
    expect(await within(s.cancelled, 1000)).toBe(true);
    const entry = await logLine(rig.gw.logFile, (e) => e.status === 499 && e.stream === true);
    expect(entry?.error).toBe("client_closed");
  });

  test("before the first byte: the pending upstream request is closed within a second", async () => {
    rig.fake.on(hang);
    const ac = new AbortController();
    const pending = postStream(rig.gw, ac.signal).catch((e) => e);
    for (let i = 0; i < 100 && rig.fake.requests.length === 0; i++) await Bun.sleep(10);
    expect(rig.fake.requests).toHaveLength(1);
    ac.abort();
    await pending;
    expect(await within(rig.fake.last.closed, 1000)).toBe(true);
  });

  test("during a backoff: no further attempt is made", async () => {
    rig.fake.on(() => Response.json({ error: "busy" }, { status: 503 }));
    const ac = new AbortController();
    const pending = postStream(rig.gw, ac.signal, "grok-backoff-test").catch((e) => e);
    for (let i = 0; i < 100 && rig.fake.requests.length === 0; i++) await Bun.sleep(10);
    expect(rig.fake.requests).toHaveLength(1);
    ac.abort(); // the gateway is now sleeping a 30-60 s backoff
    await pending;
    // The request ends (logged as closed by the client) without waiting out the backoff.
    const entry = await logLine(rig.gw.logFile, (e) => e.model === "grok-backoff-test");
    expect(entry).toMatchObject({ status: 499, error: "client_closed" });
    expect(rig.fake.requests).toHaveLength(1);
  });
});

describe("keep-alive pings", () => {
  const rig = useGateway({ resilience: resilience({ pingIntervalMs: 30 }) });

  test("while the upstream is silent the client gets event: ping, and the stream then completes", async () => {
    const s = controlledStream();
    rig.fake.on(() => {
      s.push(chunk({ content: "Thinking", role: "assistant" }));
      return s.response;
    });
    const res = await postStream(rig.gw);
    // The upstream says nothing more until the client has seen two pings.
    const reader = readEvents(res, (ev) => ev.filter((e) => e.event === "ping").length >= 2);
    const before = await reader;
    expect(before.filter((e) => e.event === "ping").length).toBeGreaterThanOrEqual(2); // one read may bring several
    expect(before.filter((e) => e.event === "ping").every((e) => e.data?.type === "ping")).toBe(true);
    s.push(chunk({ content: " done." }));
    s.push(chunk({}, "stop"));
    s.push(usageChunk(usage(5, 3)));
    s.end();
    const after = await readEvents(res);
    const all = [...before, ...after];
    expect(all.at(-1)!.event).toBe("message_stop");
    const text = all
      .filter((e) => e.event === "content_block_delta")
      .map((e) => e.data.delta.text)
      .join("");
    expect(text).toBe("Thinking done.");
  });

  test("the SDK ignores pings: the final message is whole", async () => {
    const s = controlledStream();
    rig.fake.on(() => {
      s.push(chunk({ content: "A", role: "assistant" }));
      setTimeout(() => {
        s.push(chunk({ content: "B" }));
        s.push(chunk({}, "stop"));
        s.end();
      }, 120); // long enough for a few pings at 30 ms
      return s.response;
    });
    const client = new Anthropic({ baseURL: rig.gw.url, apiKey: "local", maxRetries: 0 });
    const final = await client.messages.stream(request).finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "AB" }] as never);
  });
});

describe("concurrency", () => {
  const rig = useGateway({ resilience: resilience() });

  test("200 concurrent streams all complete, each with its own text", async () => {
    rig.fake.on((req) => streamOf(textChunks(`answer for ${req.body.messages[0].content} .`), { delayMs: 2 }));
    const client = new Anthropic({ baseURL: rig.gw.url, apiKey: "local", maxRetries: 0 });
    const N = 200;
    const finals = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        client.messages.stream({ ...request, messages: [{ role: "user", content: `q${i}` }] }).finalMessage(),
      ),
    );
    expect(finals).toHaveLength(N);
    finals.forEach((m, i) => {
      expect(m.stop_reason).toBe("end_turn");
      expect(m.content).toEqual([{ type: "text", text: `answer for q${i} .` }] as never);
    });
    expect(rig.fake.requests).toHaveLength(N);
    expect((await fetch(`${rig.gw.url}/health`)).status).toBe(200);
  }, 60_000); // usually well under a second; generous for loaded CI machines
});
