/** Stop sequences: the gateway watches output across chunk borders and stops the upstream. */
import { describe, expect, test } from "bun:test";
import { StopSequenceWatcher, cutAtStopSequence } from "../../src/dialects/stop-sequences";
import { chunk, completion, sseResponse, streamOf, usage, usageChunk } from "../helpers/fake-upstream";
import { parseSSE } from "../helpers/gateway";
import { useGateway } from "../helpers/setup";

/** Feed `text` to a watcher in pieces cut at `cuts`; return what was emitted and the match. */
function run(seqs: string[], pieces: string[]) {
  const w = new StopSequenceWatcher(seqs);
  let out = "";
  for (const p of pieces) {
    const r = w.push(p);
    out += r.emit;
    if (r.matched !== null) return { out, matched: r.matched };
  }
  return { out: out + w.flush(), matched: null };
}

describe("StopSequenceWatcher", () => {
  test("finds a sequence split across every possible chunk border", () => {
    const text = "alpha beta\n\nHuman: gamma";
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        const r = run(["\n\nHuman:"], [text.slice(0, i), text.slice(i, j), text.slice(j)]);
        expect(r).toEqual({ out: "alpha beta", matched: "\n\nHuman:" });
      }
    }
  });

  test("the earliest match wins, whichever sequence it is", () => {
    expect(run(["END", "STOP"], ["one STOP two END"])).toEqual({ out: "one ", matched: "STOP" });
    expect(run(["END", "STOP"], ["one ST", "OP two END"])).toEqual({ out: "one ", matched: "STOP" });
  });

  test("held-back text that turns out not to be a sequence is released intact", () => {
    expect(run(["</stop>"], ["a </st", "ory> b"])).toEqual({ out: "a </story> b", matched: null });
    expect(run(["</stop>"], ["ends with </sto"])).toEqual({ out: "ends with </sto", matched: null });
  });

  test("multi-byte characters around the border survive", () => {
    expect(run(["ß✓"], ["日本語ß", "✓ rest"])).toEqual({ out: "日本語", matched: "ß✓" });
  });

  test("no sequences: text passes straight through", () => {
    const w = new StopSequenceWatcher(undefined);
    expect(w.push("abc")).toEqual({ emit: "abc", matched: null });
    expect(new StopSequenceWatcher([""]).active).toBe(false);
  });

  test("cutAtStopSequence cuts whole text", () => {
    expect(cutAtStopSequence("hello STOP world", ["STOP"])).toEqual({ text: "hello ", matched: "STOP" });
    expect(cutAtStopSequence("hello world", ["STOP"])).toEqual({ text: "hello world", matched: null });
  });
});

describe("stop sequences through the server", () => {
  const rig = useGateway();

  // The sequence "###" arrives split over three chunks; the upstream would go on forever.
  const splitStream = () =>
    sseResponse(
      [
        `data: ${JSON.stringify(chunk({ content: "Step one.", role: "assistant" }))}\n\n`,
        `data: ${JSON.stringify(chunk({ content: " Done #" }))}\n\n`,
        `data: ${JSON.stringify(chunk({ content: "#" }))}\n\n`,
        `data: ${JSON.stringify(chunk({ content: "# more text" }))}\n\n`,
      ].map((s) => new TextEncoder().encode(s)),
      { hang: true },
    );

  test("stream: output ends before the match, stop_reason says which, the upstream is stopped", async () => {
    rig.fake.on(splitStream);
    const res = await fetch(`${rig.gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "grok-4",
        max_tokens: 100,
        stream: true,
        stop_sequences: ["###", "never"],
        messages: [{ role: "user", content: "go" }],
      }),
    });
    const events = parseSSE(await res.text());
    const text = events
      .filter((e) => e.event === "content_block_delta")
      .map((e) => e.data.delta.text)
      .join("");
    expect(text).toBe("Step one. Done ");
    const delta = events.find((e) => e.event === "message_delta")!;
    expect(delta.data.delta).toEqual({ stop_reason: "stop_sequence", stop_sequence: "###" });
    expect(events[events.length - 1]!.event).toBe("message_stop");
    // The gateway does not send `stop` upstream (it could not tell which one fired) …
    expect(rig.fake.last.body.stop).toBeUndefined();
    // … and it hung up on the upstream, which would otherwise never have ended.
    await rig.fake.last.closed;
    expect(rig.fake.last.aborted()).toBe(true);
  });

  test("non-stream with stop sequences is served from an upstream stream and cut the same way", async () => {
    rig.fake.on(splitStream);
    const msg = await rig.client.messages.create({
      model: "grok-4",
      max_tokens: 100,
      stop_sequences: ["###"],
      messages: [{ role: "user", content: "go" }],
    });
    expect(msg.content as unknown).toEqual([{ type: "text", text: "Step one. Done " }]);
    expect(msg.stop_reason).toBe("stop_sequence");
    expect(msg.stop_sequence).toBe("###");
    expect(rig.fake.last.body.stream).toBe(true);
  });

  test("a sequence that never appears: end_turn and the whole text", async () => {
    rig.fake.on(() =>
      streamOf([chunk({ content: "abc #", role: "assistant" }), chunk({ content: "# def" }), chunk({}, "stop"), usageChunk(usage(3, 4))]),
    );
    const msg = await rig.client.messages.create({
      model: "grok-4",
      max_tokens: 100,
      stop_sequences: ["###"],
      messages: [{ role: "user", content: "go" }],
    });
    expect(msg.content as unknown).toEqual([{ type: "text", text: "abc ## def" }]);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.stop_sequence).toBeNull();
  });

  test("without stop sequences a non-stream request stays non-stream upstream", async () => {
    rig.fake.on(() => Response.json(completion({ content: "plain" })));
    const msg = await rig.client.messages.create({ model: "grok-4", max_tokens: 10, messages: [{ role: "user", content: "x" }] });
    expect(msg.content as unknown).toEqual([{ type: "text", text: "plain" }]);
    expect(rig.fake.last.body.stream).toBeUndefined();
  });
});
