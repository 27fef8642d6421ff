/** A large request checked in slices gets the same verdict, in the same words, as the whole-body check. */
import { describe, expect, test } from "bun:test";
import {
  validateCountTokensRequest,
  validateCountTokensRequestSliced,
  validateMessagesRequest,
  validateMessagesRequestSliced,
} from "../../src/anthropic/validate";
import { Slicer } from "../../src/http/slicer";

/** A request of many turns, then one turn of 1,000 blocks (a large message). */
function request(): any {
  const messages: any[] = [];
  for (let i = 0; i < 300; i++) {
    messages.push({ role: "assistant", content: [{ type: "tool_use", id: `t${i}`, name: "bash", input: {} }] });
    messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: `t${i}`, content: "ok" }] });
  }
  messages.push({ role: "assistant", content: Array.from({ length: 1000 }, (_, i) => ({ type: "text", text: `part ${i}` })) });
  messages.push({ role: "user", content: "go on" });
  return { model: "grok-4", max_tokens: 10, messages };
}

/** One defect each, anywhere: the request's own fields, a message, a block of a small or a large message, a nested item. */
const DEFECTS: Array<[string, (r: any) => void]> = [
  ["model missing", (r) => delete r.model],
  ["max_tokens 0", (r) => (r.max_tokens = 0)],
  ["role of message 0", (r) => (r.messages[0].role = "robot")],
  ["role of message 400", (r) => (r.messages[400].role = "robot")],
  ["content a number", (r) => (r.messages[401].content = 5)],
  ["message not an object", (r) => (r.messages[7] = "hello")],
  ["block without a type", (r) => (r.messages[9].content[0] = { text: "x" })],
  ["block type not a string", (r) => (r.messages[9].content[0] = { type: 1 })],
  ["tool_use without a name", (r) => delete r.messages[10].content[0].name],
  ["tool_result item of a bad type", (r) => (r.messages[11].content[0].content = [{ type: "video" }])],
  ["a block of the large message", (r) => (r.messages[600].content[999] = { type: "text", text: 5 })],
  ["a block of the large message without a type", (r) => (r.messages[600].content[500] = { text: "x" })],
  ["a block of the large message that is not an object", (r) => (r.messages[600].content[3] = 7)],
  ["system not a string", (r) => (r.system = 5)],
  ["messages empty", (r) => (r.messages = [])],
  ["messages not a list", (r) => (r.messages = "hi")],
];

describe("validateMessagesRequestSliced", () => {
  test("a valid large request passes", async () => {
    const r = request();
    expect(validateMessagesRequest(r).ok).toBe(true);
    expect((await validateMessagesRequestSliced(r, new Slicer())).ok).toBe(true);
    expect((await validateCountTokensRequestSliced({ ...r, max_tokens: undefined }, new Slicer())).ok).toBe(true);
  });

  test.each(DEFECTS)("%s: the same refusal, in the same words", async (_name, spoil) => {
    const r = request();
    spoil(r);
    const whole = validateMessagesRequest(r);
    const sliced = await validateMessagesRequestSliced(r, new Slicer());
    expect(whole.ok).toBe(false);
    expect(sliced).toEqual(whole);
    const c = { ...r };
    delete c.max_tokens;
    expect(await validateCountTokensRequestSliced(c, new Slicer())).toEqual(validateCountTokensRequest(c));
  });

  test("not an object", async () => {
    for (const body of [null, [], "x", 3]) expect(await validateMessagesRequestSliced(body, new Slicer())).toEqual(validateMessagesRequest(body));
  });
});
