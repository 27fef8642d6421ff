/**
 * Code execution on Grok, through the real server with the official SDK, against the fake xAI
 * Responses upstream serving the one real recording of xAI's code interpreter
 * (vercel-xai-code-execution-tool.1.json: the code, no output) and, synthesized from xAI's spec, a
 * call with its logs.
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { sequence } from "../helpers/fake-upstream";
import { answer, codeInterpreterCall, fixtureJson, recordedResponse } from "../helpers/fake-responses";
import { parseSSE } from "../helpers/gateway";
import { useGateway, useResponsesGateway } from "../helpers/setup";
import { readmeExample, runTs } from "../helpers/readme-example";
import { checkFrames } from "../helpers/sse-grammar";

const h = useResponsesGateway();
const chat = useGateway(); // a chat-completions upstream

const RECORDED = "vercel-xai-code-execution-tool.1.json";
const CODE_EXECUTION = { type: "code_execution_20250825", name: "code_execution" } as const;
const ask = {
  model: "grok-4.3",
  max_tokens: 1024,
  messages: [{ role: "user" as const, content: "Write and run Python for the 10th Fibonacci number." }],
  tools: [CODE_EXECUTION],
};
const recorded = fixtureJson(RECORDED);
const CODE = JSON.parse(recorded.output[0].arguments).code as string;

async function raw(url: string, body: Record<string, unknown>) {
  const res = await fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "test", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

describe("a code execution, as Anthropic's code execution tool shapes it", () => {
  test("non-streaming (the recorded call): server_tool_use with the code, its result, then the text; xAI gets code_interpreter", async () => {
    h.fake.on(recordedResponse(RECORDED));
    const msg = await h.client.messages.create(ask);
    expect(h.fake.last.body.tools).toEqual([{ type: "code_interpreter" }]);
    const id = `srvtoolu_xcf_${recorded.output[0].id}`;
    expect(msg.content).toEqual([
      { type: "server_tool_use", id, name: "code_execution", input: { code: CODE } },
      { type: "code_execution_tool_result", tool_use_id: id, content: { type: "code_execution_result", stdout: "", stderr: "", return_code: 0, content: [] } },
      { type: "text", text: "55" },
    ] as never);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage.server_tool_use).toBeUndefined();
  });

  test("streaming: finalMessage() is the same message; raw frames follow the grammar (code as an input delta, the result whole)", async () => {
    h.fake.on(recordedResponse(RECORDED));
    const json = await h.client.messages.create(ask);
    h.fake.on(recordedResponse(RECORDED));
    const final = await h.client.messages.stream(ask).finalMessage();
    expect(final.content).toEqual(json.content as never);

    h.fake.on(recordedResponse(RECORDED));
    const r = await raw(h.gw.url, { ...ask, stream: true });
    expect(r.status).toBe(200);
    const frames = parseSSE(r.text);
    checkFrames(frames);
    const data = frames.map((f) => f.data);
    expect(data[1].content_block).toEqual({ type: "server_tool_use", id: `srvtoolu_xcf_${recorded.output[0].id}`, name: "code_execution", input: {} });
    expect(data[2].delta).toEqual({ type: "input_json_delta", partial_json: JSON.stringify({ code: CODE }) });
    expect(data[4].content_block.type).toBe("code_execution_tool_result");
  });

  test("README's example runs as written against the recorded answer", async () => {
    h.fake.on(recordedResponse(RECORDED));
    const out = await runTs(readmeExample("### Code execution on Grok", h.gw.url));
    expect(out).toBe('ran code_execution\nresult: {"type":"code_execution_result","stdout":"","stderr":"","return_code":0,"content":[]}\n55\n');
    expect(h.fake.last.body.tools).toEqual([{ type: "code_interpreter" }]);
  });

  test("what xAI printed (the spec's logs) is the stdout, streamed and not", async () => {
    const s = { serverItems: [codeInterpreterCall({ code: "print(sum(range(10)))", shape: "spec", logs: ["45\n"] })], text: ["It prints 45."] };
    for (const stream of [false, true]) {
      h.fake.on(answer(s));
      const msg = stream ? await h.client.messages.stream(ask).finalMessage() : await h.client.messages.create(ask);
      const result = msg.content[1] as Anthropic.CodeExecutionToolResultBlock;
      expect(result.content).toEqual({ type: "code_execution_result", stdout: "45\n", stderr: "", return_code: 0, content: [] } as never);
    }
  });

  test("two turns: xAI gets its recorded code_interpreter_call back byte for byte, in place", async () => {
    for (const stream of [true, false]) {
      h.fake.reset();
      h.fake.on(sequence(recordedResponse(RECORDED), answer({ text: ["89"] })));
      const first = stream ? await h.client.messages.stream(ask).finalMessage() : await h.client.messages.create(ask);
      await h.client.messages.create({ ...ask, messages: [ask.messages[0]!, { role: "assistant", content: first.content }, { role: "user", content: "And the 11th?" }] });
      const input = h.fake.requests[1]!.body.input;
      expect(JSON.stringify(input[1])).toBe(JSON.stringify(recorded.output[0]));
      expect(input[2]).toEqual({ role: "assistant", content: [{ type: "output_text", text: "55" }] });
    }
  });
});

describe("what cannot be served: a 400 in Anthropic's envelope naming the field; nothing reaches the upstream", () => {
  test("a forced Bash sub-tool, Bash / text-editor blocks sent back (real Anthropic's 20250825 answer), a container", async () => {
    const anthropic = fixtureJson("anthropic-target/anthropic-code-execution-20250825.1.json");
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ tool_choice: { type: "tool", name: "bash_code_execution" } }, 'tool_choice.name: "bash_code_execution" cannot be forced'],
      [{ messages: [ask.messages[0], { role: "assistant", content: anthropic.content }, { role: "user", content: "again" }] }, 'messages[1].content[1].name: a "text_editor_code_execution" call cannot be sent to Grok'],
      [{ container: anthropic.container.id }, "container: xAI's code interpreter keeps no container"],
    ];
    for (const [extra, message] of cases) {
      const err = await h.client.messages.create({ ...ask, ...extra } as never).catch((e) => e);
      expect(err, message).toBeInstanceOf(Anthropic.BadRequestError);
      expect(err.error.error.type).toBe("invalid_request_error");
      expect(err.error.error.message).toStartWith(message);
      if (!("container" in extra)) expect(err.error.error.message).toContain("runs Python only");
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  test("on a chat-completions upstream: a 400 that says code execution needs the Responses API", async () => {
    const r = await raw(chat.gw.url, ask);
    expect(r.status).toBe(400);
    const err = JSON.parse(r.text);
    expect(err.type).toBe("error");
    expect(err.error.type).toBe("invalid_request_error");
    expect(err.error.message).toMatch(/^tools\[0\]: "code_execution_20250825" \(code execution: xAI's code_interpreter\) needs the upstream's Responses API/);
    expect(chat.fake.requests).toHaveLength(0);
  });
});
