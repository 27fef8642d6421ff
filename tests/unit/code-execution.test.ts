/**
 * Code execution on Grok, the pure pieces: every code_execution_* version → xAI's
 * `code_interpreter`; xAI's `code_interpreter_call` (the recorded shape, and the spec's shape with
 * its logs) → `server_tool_use` + `code_execution_tool_result`, JSON and stream alike; the turn
 * given back to xAI with its item in place; what xAI cannot do refused with a 400 that says so.
 */
import { describe, expect, test } from "bun:test";
import type { AnthropicMessage, MessagesRequest } from "../../src/anthropic/schema";
import { validateMessagesRequest } from "../../src/anthropic/validate";
import { toChatRequest } from "../../src/dialects/chat/request";
import { toResponsesRequest } from "../../src/dialects/responses/request";
import { fromResponsesJson } from "../../src/dialects/responses/response";
import { ResponsesStreamTranslator } from "../../src/dialects/responses/stream";
import { turnDigest } from "../../src/dialects/turn-digest";
import { codeInterpreterCall, fixtureJson, responseObject, scriptEvents, scriptOutput, streamEventsFor, type Script } from "../helpers/fake-responses";
import { assemble } from "../helpers/sse-grammar";

const caps = { vision: true, maxOutput: 128000, stop: false, reasoningEffort: ["low", "medium", "high"] } as never;
const RECORDED = "vercel-xai-code-execution-tool.1.json";
const TOOL = { type: "code_execution_20250825", name: "code_execution" };

const request = (extra: Record<string, unknown>): MessagesRequest =>
  ({ model: "grok-4.3", max_tokens: 1024, messages: [{ role: "user", content: "What is the 10th Fibonacci number? Run code." }], tools: [TOOL], ...extra }) as never;

function problem(extra: Record<string, unknown>): string {
  const v = validateMessagesRequest(request(extra));
  return v.ok ? "ok" : v.message;
}

const json = (response: unknown, thinking = true): AnthropicMessage =>
  fromResponsesJson(response, { id: "msg_t", model: "claude-x", inputTokensEstimate: 10, thinking }).message;

function streamed(events: Array<Record<string, unknown>>, thinking = true): AnthropicMessage {
  const t = new ResponsesStreamTranslator({ messageId: "msg_t", model: "claude-x", inputTokensEstimate: 10, thinking });
  const out = [...t.start()];
  for (const e of events) out.push(...t.push(e as never));
  out.push(...t.finish());
  return assemble(out);
}

const FIB = fixtureJson(RECORDED).output[0];
const CODE = JSON.parse(FIB.arguments).code as string;

describe("the request", () => {
  test("every version → xAI's {type:code_interpreter}, after web search; nothing else of the tool goes", () => {
    for (const type of ["code_execution_20250522", "code_execution_20250825", "code_execution_20260120", "code_execution_20260521"]) {
      const { body, warnings } = toResponsesRequest(
        request({ tools: [{ type, name: "code_execution", allowed_callers: ["direct"], cache_control: { type: "ephemeral" } }, { type: "web_search_20250305", name: "web_search" }] }),
        { model: "grok-4.3", caps, stream: false },
      );
      expect(body.tools).toEqual([{ type: "web_search" }, { type: "code_interpreter" }]);
      expect(warnings).toEqual([]);
    }
  });

  test("tool_choice naming code_execution cannot be forced at xAI: not sent, and the log says so", () => {
    const { body, warnings } = toResponsesRequest(request({ tool_choice: { type: "tool", name: "code_execution" } }), { model: "grok-4.3", caps, stream: false });
    expect(body.tool_choice).toBeUndefined();
    expect(warnings).toEqual(["tool_choice code_execution not forced: xAI cannot force its server-side tools (the model chooses)"]);
  });

  test("what xAI cannot do is a 400 that says so: an unknown version, another name, a container, a forced Bash or text-editor sub-tool, their blocks sent back; blocks outside an answer", () => {
    expect(problem({ tools: [{ type: "code_execution_20990101", name: "code_execution" }] })).toBe(
      'tools[0].type: unknown code execution version "code_execution_20990101"; supported: code_execution_20250522, code_execution_20250825, code_execution_20260120, code_execution_20260521',
    );
    expect(problem({ tools: [{ type: "code_execution_20250825", name: "python" }] })).toBe('tools[0].name: a code_execution_20250825 tool must be named "code_execution" (got "python")');
    expect(problem({ container: "container_011CU6rVteVhydYXRyNs6G1M" })).toStartWith("container: xAI's code interpreter keeps no container between requests");
    expect(problem({ tool_choice: { type: "tool", name: "bash_code_execution" } })).toStartWith('tool_choice.name: "bash_code_execution" cannot be forced: xAI\'s code interpreter runs Python only');
    // Real Anthropic's 20250825 answer (recorded): its text-editor and Bash blocks cannot go to Grok.
    const anthropic = fixtureJson("anthropic-target/anthropic-code-execution-20250825.1.json").content;
    const history = (content: unknown[]) => ({ messages: [{ role: "user", content: "fib?" }, { role: "assistant", content }, { role: "user", content: "again" }] });
    expect(problem(history(anthropic))).toBe('messages[1].content[1].name: a "text_editor_code_execution" call cannot be sent to Grok: ' + PYTHON_ONLY);
    expect(problem(history(anthropic.slice(5, 6)))).toBe('messages[1].content[0]: block type "bash_code_execution_tool_result" cannot be sent to Grok: ' + PYTHON_ONLY);
    expect(problem({ messages: [{ role: "user", content: [{ type: "server_tool_use", id: "srvtoolu_1", name: "code_execution", input: { code: "1" } }] }] })).toBe(
      'messages[0].content[0]: block type "server_tool_use" belongs in an assistant turn (it is part of an answer), not a user turn',
    );
    expect(problem({})).toBe("ok");
    expect(problem({ container: null })).toBe("ok");
  });

  test("on the chat-completions dialect: a 400 that says code execution needs the Responses API", () => {
    expect(() => toChatRequest(request({}), { model: "grok-4.3", caps, stream: false })).toThrow(
      /^tools\[0\]: "code_execution_20250825" \(code execution: xAI's code_interpreter\) needs the upstream's Responses API/,
    );
  });
});

const PYTHON_ONLY =
  "xAI's code interpreter runs Python only (no Bash, no file editing in a container): grok2api serves every code_execution version as Python `code_execution` calls";

describe("the answer: code_interpreter_call → server_tool_use + code_execution_tool_result", () => {
  test("the recorded call (no output at all): the code, an empty stdout, return code 0; the text after it; usage unaffected", () => {
    const message = json(fixtureJson(RECORDED));
    const id = `srvtoolu_xcf_${FIB.id}`;
    expect(message.content).toEqual([
      { type: "server_tool_use", id, name: "code_execution", input: { code: CODE } },
      { type: "code_execution_tool_result", tool_use_id: id, content: { type: "code_execution_result", stdout: "", stderr: "", return_code: 0, content: [] } },
      { type: "text", text: "55" },
    ]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.server_tool_use).toBeUndefined();
    expect(streamed(streamEventsFor(fixtureJson(RECORDED))).content).toEqual(message.content);
  });

  test("the spec's shape: its logs are the stdout, an image output a line with its URL; a failed call is the `unavailable` error", () => {
    const s: Script = {
      serverItems: [
        codeInterpreterCall({ code: "print(1)\nprint(2)", shape: "spec", logs: ["1\n", "2"], images: ["https://files.x.ai/plot.png"] }),
        { ...codeInterpreterCall({ n: 1, code: "1/0" }), status: "failed" },
      ],
      text: ["Done."],
    };
    for (const message of [json(responseObject(scriptOutput(s), s, "completed")), streamed(scriptEvents(s))]) {
      const [use, result, , failed] = message.content as any[];
      expect(use).toEqual({ type: "server_tool_use", id: `srvtoolu_xci_${scriptOutput(s)[0]!.id}`, name: "code_execution", input: { code: "print(1)\nprint(2)" } });
      expect(result.content).toEqual({ type: "code_execution_result", stdout: "1\n2\n[image: https://files.x.ai/plot.png]\n", stderr: "", return_code: 0, content: [] });
      expect(failed.content).toEqual({ type: "code_execution_tool_result_error", error_code: "unavailable" });
    }
  });

  test("the turn's digest counts the code execution blocks", () => {
    const r = fromResponsesJson({ ...fixtureJson(RECORDED), output: [{ type: "reasoning", id: "rs_1", summary: [], encrypted_content: "E" }, ...fixtureJson(RECORDED).output] }, {
      id: "m",
      model: "c",
      inputTokensEstimate: 1,
      thinking: false,
    });
    expect(r.reasoning!.digest).toBe(turnDigest(r.message.content));
    expect(r.reasoning!.items).toEqual([{ at: 0, e: "E", i: "rs_1" }]);
    const edited = r.message.content.map((b) => (b.type === "code_execution_tool_result" ? { ...b, tool_use_id: "srvtoolu_other" } : b));
    expect(turnDigest(edited)).not.toBe(r.reasoning!.digest);
  });
});

describe("the next turn: xAI gets its code_interpreter_call back, in place and in the shape it sent", () => {
  const next = (assistant: unknown[]) =>
    toResponsesRequest(
      request({ messages: [{ role: "user", content: "fib?" }, { role: "assistant", content: JSON.parse(JSON.stringify(assistant)) }, { role: "user", content: "And the 11th?" }] }),
      { model: "grok-4.3", caps, stream: false },
    ).body.input;

  test("the recorded call goes back byte for byte, before the answer's text", () => {
    for (const message of [json(fixtureJson(RECORDED)), streamed(streamEventsFor(fixtureJson(RECORDED)))]) {
      const input = next(message.content);
      expect(JSON.stringify(input[1])).toBe(JSON.stringify(FIB));
      expect(input[2]).toEqual({ role: "assistant", content: [{ type: "output_text", text: "55" }] });
      expect(input).toHaveLength(4);
    }
  });

  test("the spec's shape goes back with what it printed as its logs", () => {
    const s: Script = { serverItems: [codeInterpreterCall({ code: "print(55)", shape: "spec", logs: ["55\n"] })], text: ["55"] };
    const input = next(json(responseObject(scriptOutput(s), s, "completed")).content);
    expect(input[1]).toEqual({ ...scriptOutput(s)[0]!, outputs: [{ type: "logs", logs: "55\n" }] } as never);
  });

  test("real Anthropic's code execution (20250522 blocks) is plain text context", () => {
    const input = next([
      { type: "server_tool_use", id: "srvtoolu_01abc", name: "code_execution", input: { code: "print(55)" } },
      { type: "code_execution_tool_result", tool_use_id: "srvtoolu_01abc", content: { type: "code_execution_result", stdout: "55\n", stderr: "", return_code: 0, content: [] } },
      { type: "text", text: "55" },
    ]);
    expect(input[1]).toEqual({
      role: "assistant",
      content: [{ type: "output_text", text: "[Code execution]\n```python\nprint(55)\n```\n\n[Code execution result]\nstdout:\n55\n\nreturn code: 0\n\n55" }],
    });
  });
});
