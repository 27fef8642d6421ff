/** The model map: no built-in table, config entries with globs, passthrough, and the name echoed back. */
import { beforeAll, describe, expect, test } from "bun:test";
import { GUIDE_MODEL_MAP, createModelMap } from "../../src/models/map";
import { completion } from "../helpers/fake-upstream";
import { useGateway } from "../helpers/setup";

describe("createModelMap", () => {
  test("there is no built-in map: the guide's grok-2 table is only there to pin", () => {
    const m = createModelMap();
    for (const name of Object.keys(GUIDE_MODEL_MAP)) expect(m.lookup(name)).toBeUndefined();
    expect(Object.keys(GUIDE_MODEL_MAP)).toHaveLength(8);
    const pinned = createModelMap(GUIDE_MODEL_MAP);
    expect(pinned.resolve("claude-3-5-sonnet-20241022")).toBe("grok-2-latest");
    expect(pinned.resolve("claude-3-haiku-20240307")).toBe("grok-2-1212");
  });

  test("other names go upstream unchanged", () => {
    const m = createModelMap();
    for (const name of ["grok-4", "grok-vision", "grok-4.3", "claude-sonnet-4-6"]) expect(m.resolve(name)).toBe(name);
  });

  test("the user's entries beat every default, a glob included; exact names beat globs; globs are tried in order", () => {
    const m = createModelMap(
      {
        "claude-3-5-sonnet-20241022": "grok-4.3",
        "claude-*-haiku-*": "grok-4.20-0309-non-reasoning",
        "claude-*": "grok-4.3",
        "gpt-4o*": "grok-4.20-0309-reasoning",
      },
      GUIDE_MODEL_MAP,
    );
    expect(m.resolve("claude-3-5-sonnet-20241022")).toBe("grok-4.3");
    // a user glob beats an exact default name
    expect(m.resolve("claude-3-haiku-20240307")).toBe("grok-4.20-0309-non-reasoning");
    expect(m.resolve("claude-3-opus-latest")).toBe("grok-4.3");
    expect(m.resolve("claude-3-7-haiku-20250101")).toBe("grok-4.20-0309-non-reasoning");
    expect(m.resolve("claude-opus-4-8")).toBe("grok-4.3");
    expect(m.resolve("gpt-4o-mini")).toBe("grok-4.20-0309-reasoning");
    expect(m.resolve("grok-4")).toBe("grok-4");
  });

  test("glob characters other than * are literal", () => {
    const m = createModelMap({ "a.b+c*": "x" });
    expect(m.resolve("a.b+c-1")).toBe("x");
    expect(m.resolve("aXb+c-1")).toBe("aXb+c-1");
  });

  test("names() lists exact names, overrides first", () => {
    const names = createModelMap({ "my-model": "grok-4", "claude-*": "grok-4.3" }).names();
    expect(names[0]).toBe("my-model");
    expect(names).toEqual(["my-model"]);
    expect(names).not.toContain("claude-*");
  });
});

describe("model map through the server", () => {
  const rig = useGateway({ modelMap: { "claude-*": "grok-4.3", "claude-3-opus-latest": "grok-4.20-0309-reasoning" } });
  beforeAll(() => rig.fake.on(() => Response.json(completion({ content: "ok" }))));

  test.each([
    ["claude-sonnet-4-6", "grok-4.3"],
    ["claude-3-opus-latest", "grok-4.20-0309-reasoning"],
    // the user's glob catches the guide's old names too
    ["claude-2.1", "grok-4.3"],
    ["claude-3-5-sonnet-20241022", "grok-4.3"],
    ["grok-4", "grok-4"],
  ])("%s → %s upstream, and the answer names the model asked for", async (asked, upstream) => {
    const msg = await rig.client.messages.create({ model: asked, max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    expect(rig.fake.last.body.model).toBe(upstream);
    expect(msg.model).toBe(asked);
  });
});
