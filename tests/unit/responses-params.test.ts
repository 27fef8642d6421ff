/** The Responses request fitted to xAI: what is kept, what is changed, and that each change is named. */
import { describe, expect, test } from "bun:test";
import { createCapabilityTable } from "../../src/models/capabilities";
import { fitResponsesRequest, unsupportedResponsesField } from "../../src/faces/openai-responses/fit";

const caps = createCapabilityTable();
const fit = (req: Record<string, unknown>, model = "grok-4.3") => fitResponsesRequest(req, { model, caps: caps.get(model) });

describe("fitResponsesRequest", () => {
  test("a request xAI takes as it is passes untouched, but for the model", () => {
    const req = {
      model: "gpt-5",
      input: [{ role: "user", content: "Count from 1 to 3" }],
      instructions: "Be brief.",
      stream: true,
      store: false,
      include: ["reasoning.encrypted_content"],
      reasoning: { effort: "medium", summary: "auto" },
      tools: [{ type: "function", name: "weather", parameters: { type: "object", properties: {} }, strict: false }],
      tool_choice: { type: "function", name: "weather" },
      parallel_tool_calls: true,
      prompt_cache_key: "conv-1",
      temperature: 0.2,
      max_output_tokens: 100,
      text: { format: { type: "text" } },
      service_tier: "priority",
      user: "u-1",
    };
    const { body, adjusted } = fit(req);
    expect(body).toEqual({ ...req, model: "grok-4.3" });
    expect(adjusted).toEqual([]);
    // The client's object is not modified.
    expect(req.model).toBe("gpt-5");
  });

  test("web_search_preview becomes web_search with only the fields xAI takes", () => {
    const { body, adjusted } = fit({
      model: "m",
      tools: [
        { type: "web_search_preview", search_context_size: "high", user_location: { type: "approximate", country: "DE" } },
        { type: "web_search_2025_08_26", filters: { allowed_domains: ["x.ai"] } },
      ],
      tool_choice: { type: "web_search_preview" },
    });
    expect(body.tools).toEqual([{ type: "web_search" }, { type: "web_search", filters: { allowed_domains: ["x.ai"] } }]);
    expect(body).not.toHaveProperty("tool_choice");
    expect(adjusted).toEqual([
      "tools.web_search_preview -> web_search",
      "tools.web_search.search_context_size dropped",
      "tools.web_search.user_location dropped",
      "tools.web_search_2025_08_26 -> web_search",
      "tool_choice.web_search_preview dropped",
    ]);
  });

  test("Codex's cached-only web search is dropped (xAI searches live); a live one is kept", () => {
    expect(fit({ model: "m", tools: [{ type: "web_search", external_web_access: false }] })).toEqual({
      body: { model: "grok-4.3" },
      adjusted: ["tools.web_search dropped (external_web_access false)"],
    });
    expect(fit({ model: "m", tools: [{ type: "web_search", external_web_access: true }] })).toEqual({
      body: { model: "grok-4.3", tools: [{ type: "web_search" }] },
      adjusted: ["tools.web_search.external_web_access dropped"],
    });
  });

  test("tool types xAI lacks are dropped by name; xAI's own server tools stay", () => {
    const fn = { type: "function", name: "f", parameters: { type: "object" } };
    const { body, adjusted } = fit({
      model: "m",
      tools: [
        fn,
        { type: "namespace", name: "multi_agent_v1", tools: [fn] },
        { type: "computer_use_preview", display_width: 1024, display_height: 768, environment: "linux" },
        { type: "local_shell" },
        { type: "custom", name: "apply_patch" },
        { type: "x_search", allowed_x_handles: ["xai"] },
        { type: "code_interpreter", container: { type: "auto" } },
        { type: "mcp", server_label: "s", server_url: "https://mcp.example/sse", require_approval: "never" },
        { type: "file_search", vector_store_ids: ["vs_1"] },
      ],
      tool_choice: "required",
    });
    expect(body.tools).toEqual([
      fn,
      { type: "x_search", allowed_x_handles: ["xai"] },
      { type: "code_interpreter" },
      { type: "mcp", server_label: "s", server_url: "https://mcp.example/sse" },
      { type: "file_search", vector_store_ids: ["vs_1"] },
    ]);
    expect(body.tool_choice).toBe("required");
    expect(adjusted).toEqual([
      "tools.namespace dropped",
      "tools.computer_use_preview dropped",
      "tools.local_shell dropped",
      "tools.custom dropped",
      "tools.code_interpreter.container dropped",
      "tools.mcp.require_approval dropped",
    ]);
  });

  test("no tool left: tools and a forcing tool_choice go; a tool_choice naming a dropped tool goes", () => {
    expect(fit({ model: "m", tools: [{ type: "local_shell" }], tool_choice: "required" })).toEqual({
      body: { model: "grok-4.3" },
      adjusted: ["tools.local_shell dropped", "tool_choice dropped (no tool left)"],
    });
    const fn = { type: "function", name: "f" };
    expect(fit({ model: "m", tools: [fn, { type: "custom", name: "g" }], tool_choice: { type: "custom", name: "g" } })).toEqual({
      body: { model: "grok-4.3", tools: [fn] },
      adjusted: ["tools.custom dropped", "tool_choice.custom dropped"],
    });
    expect(fit({ model: "m", tools: [fn], tool_choice: { type: "function", name: "other" } }).adjusted).toEqual([
      "tool_choice dropped (tool not sent)",
    ]);
  });

  test("Chat Completions' nested function tools and tool_choice are flattened", () => {
    const { body, adjusted } = fit({
      model: "m",
      tools: [{ type: "function", function: { name: "f", description: "d", parameters: { type: "object" } } }],
      tool_choice: { type: "function", function: { name: "f" } },
    });
    expect(body.tools).toEqual([{ type: "function", name: "f", description: "d", parameters: { type: "object" } }]);
    expect(body.tool_choice).toEqual({ type: "function", name: "f" });
    expect(adjusted).toEqual(["tools.function flattened", "tool_choice.function flattened"]);
  });

  test("OpenAI-only fields are dropped by name; store and include stay as sent", () => {
    const { body, adjusted } = fit({
      model: "m",
      store: false,
      include: ["reasoning.encrypted_content"],
      metadata: { k: "v" },
      client_metadata: { "x-codex-installation-id": "secret-ish" },
      stream_options: { include_obfuscation: false },
      prompt_cache_retention: "24h",
      service_tier: "flex",
      text: { verbosity: "low" },
    });
    expect(body).toEqual({ model: "grok-4.3", store: false, include: ["reasoning.encrypted_content"] });
    expect(adjusted).toEqual([
      "metadata dropped",
      "client_metadata dropped",
      "stream_options dropped",
      "prompt_cache_retention dropped",
      "service_tier flex dropped",
      "text.verbosity dropped",
    ]);
    // text.format stays when verbosity goes; an unknown tier is not echoed into the header.
    const other = fit({ model: "m", text: { format: { type: "json_object" }, verbosity: "high" }, service_tier: "<x>" });
    expect(other.body).toEqual({ model: "grok-4.3", text: { format: { type: "json_object" } } });
    expect(other.adjusted).toEqual(["service_tier value dropped", "text.verbosity dropped"]);
  });

  test("reasoning effort: moved to the nearest the model takes; reasoning dropped where the model has no dial", () => {
    expect(fit({ model: "m", reasoning: { effort: "xhigh", summary: "auto" } })).toEqual({
      body: { model: "grok-4.3", reasoning: { effort: "high", summary: "auto" } },
      adjusted: ["reasoning.effort xhigh -> high"],
    });
    expect(fit({ model: "m", reasoning: { effort: "minimal" } }, "grok-4.5").body.reasoning).toEqual({ effort: "low" });
    expect(fit({ model: "m", reasoning: { effort: "whatever" } }).adjusted).toEqual(["reasoning.effort dropped"]);
    expect(fit({ model: "m", reasoning: { effort: "low", summary: "auto" } }, "grok-4.20-0309-reasoning")).toEqual({
      body: { model: "grok-4.20-0309-reasoning" },
      adjusted: ["reasoning dropped"],
    });
    expect(fit({ model: "m", reasoning: { generate_summary: "concise" } })).toEqual({
      body: { model: "grok-4.3", reasoning: { summary: "concise" } },
      adjusted: ["reasoning.generate_summary -> summary"],
    });
  });

  test("penalties and stop go for reasoning models, stay for models that take them", () => {
    const req = { model: "m", presence_penalty: 0.5, frequency_penalty: 0.1, stop: ["END"], temperature: 0.3 };
    expect(fit(req)).toEqual({
      body: { model: "grok-4.3", temperature: 0.3 },
      adjusted: ["stop dropped", "presence_penalty dropped", "frequency_penalty dropped"],
    });
    expect(fit(req, "llama-3.3-70b")).toEqual({ body: { ...req, model: "llama-3.3-70b" }, adjusted: [] });
  });

  test("replayed reasoning items lose null fields and always carry a summary", () => {
    const msg = { type: "message", role: "user", content: "hi" };
    const good = { type: "reasoning", summary: [], encrypted_content: "abc" };
    const { body, adjusted } = fit({
      model: "m",
      input: [
        msg,
        good,
        { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "t" }], content: null, encrypted_content: "def" },
        { type: "reasoning", encrypted_content: "ghi" },
      ],
    });
    expect(body.input).toEqual([
      msg,
      good,
      { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "t" }], encrypted_content: "def" },
      { type: "reasoning", encrypted_content: "ghi", summary: [] },
    ]);
    expect(adjusted).toEqual(["input.reasoning null fields dropped"]);
    expect(fit({ model: "m", input: [msg, good] }).adjusted).toEqual([]);
  });
});

describe("unsupportedResponsesField", () => {
  test("background, conversation and stored prompts are refused with a reason; their off values pass", () => {
    expect(unsupportedResponsesField({ background: true })).toMatch(/^background: true is not supported/);
    expect(unsupportedResponsesField({ conversation: "conv_1" })).toMatch(/^conversation is not supported/);
    expect(unsupportedResponsesField({ prompt: { id: "pmpt_1" } })).toMatch(/^prompt .* is not supported/);
    expect(unsupportedResponsesField({ background: false, conversation: null, prompt: null })).toBeUndefined();
  });
});
