/** fitChatRequest: a client's chat request fitted to the upstream model's capabilities. */
import { describe, expect, test } from "bun:test";
import { DEFAULT_CAPS, type ModelCaps } from "../../src/models/capabilities";
import { fitChatRequest } from "../../src/faces/openai-chat/fit";

const caps = (over: Partial<ModelCaps>): ModelCaps => ({ ...DEFAULT_CAPS, ...over });
const base = { model: "client-name", messages: [{ role: "user", content: "hi" }] };

describe("fitChatRequest", () => {
  test("replaces the model and leaves everything else alone when the model takes it all", () => {
    const req = { ...base, stop: ["x"], presence_penalty: 1, frequency_penalty: 1, temperature: 1, n: 2, custom: { a: 1 } };
    const { body, adjusted } = fitChatRequest(req, { model: "grok-3", caps: caps({ reasoningEffort: ["low", "high"] }) });
    expect(body).toEqual({ ...req, model: "grok-3" });
    expect(adjusted).toEqual([]);
  });

  test("does not modify the request it was given", () => {
    const req = { ...base, stop: ["x"], reasoning_effort: "high" };
    const copy = structuredClone(req);
    fitChatRequest(req, { model: "m", caps: caps({ stop: false, reasoningEffort: null }) });
    expect(req).toEqual(copy);
  });

  test("drops reasoning_effort when the model takes none", () => {
    const { body, adjusted } = fitChatRequest({ ...base, reasoning_effort: "low" }, { model: "m", caps: caps({ reasoningEffort: null }) });
    expect("reasoning_effort" in body).toBe(false);
    expect(adjusted).toEqual(["reasoning_effort dropped"]);
  });

  test("moves an effort the model lacks to the nearest it has, or drops an unknown one", () => {
    const c = caps({ reasoningEffort: ["low", "high"] });
    expect(fitChatRequest({ ...base, reasoning_effort: "medium" }, { model: "m", caps: c }).body.reasoning_effort).toBe("high");
    expect(fitChatRequest({ ...base, reasoning_effort: "minimal" }, { model: "m", caps: c }).body.reasoning_effort).toBe("low");
    const odd = fitChatRequest({ ...base, reasoning_effort: "ludicrous" }, { model: "m", caps: c });
    expect("reasoning_effort" in odd.body).toBe(false);
    expect(odd.adjusted).toEqual(["reasoning_effort dropped"]);
  });

  test("drops stop and penalties for a model that rejects them, only if they were sent", () => {
    const c = caps({ stop: false, penalties: false });
    const { body, adjusted } = fitChatRequest({ ...base, stop: "END", frequency_penalty: 0.1, top_p: 0.5 }, { model: "m", caps: c });
    expect(body).toEqual({ ...base, model: "m", top_p: 0.5 });
    expect(adjusted).toEqual(["stop dropped", "frequency_penalty dropped"]);
    expect(fitChatRequest(base, { model: "m", caps: c }).adjusted).toEqual([]);
  });
});
