/**
 * GET /v1/models and /v1/models/{id} with both official SDKs against the real
 * gateway: Anthropic's shape and paging for Anthropic clients, OpenAI's otherwise.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { DEFAULT_ROUTING } from "../../src/models/routing";
import { modelList, xaiError, type Recorded } from "../helpers/fake-upstream";
import { startGateway } from "../helpers/gateway";
import { clientFor, openaiFor, useFakeUpstream, useGateway } from "../helpers/setup";

const fake = useFakeUpstream();
let anthropic: Anthropic;
let openai: OpenAI;
let models: (req: Recorded) => Response;

const UPSTREAM = ["grok-4.3", "grok-4.20-0309-reasoning", "grok-imagine-image"];
const OVERRIDES = { "claude-sonnet-4-5": "grok-4.3", "my-fast": "grok-4.20-0309-reasoning", "claude-*": "grok-4.3" };
/**
 * Claude-style names first (the advertised routed names, then the overrides; there is no built-in
 * map), then other mapped names, then the upstream's.
 */
const EXPECTED_IDS = [...DEFAULT_ROUTING.advertise, "claude-sonnet-4-5", "my-fast", ...UPSTREAM];

const rig = useGateway({ modelMap: OVERRIDES }, fake);
beforeAll(() => {
  fake.on((req) => models(req));
  anthropic = clientFor(rig.gw, "sk-ant-client");
  openai = openaiFor(rig.gw, "sk-openai-client");
});
beforeEach(() => {
  fake.reset();
  models = (req) => (req.path === "/v1/models" ? Response.json(modelList(UPSTREAM)) : xaiError(404, "no such path"));
});

describe("Anthropic clients", () => {
  test("models.list() iterates every page, Claude-style names first", async () => {
    const ids: string[] = [];
    for await (const m of anthropic.models.list({ limit: 3 })) ids.push(m.id);
    expect(ids).toEqual(EXPECTED_IDS);
    // Several pages, one reading of the catalog (xAI's detailed list first, then OpenAI's), with the upstream key.
    expect(fake.requests.map((r) => r.path)).toEqual(["/v1/language-models", "/v1/models"]);
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-test-upstream-key");
  });

  test("the upstream's list stays cached", async () => {
    await anthropic.models.list();
    await openai.models.list();
    expect(fake.requests.length).toBe(0);
  });

  test("an entry has Anthropic's model shape", async () => {
    const page = await anthropic.models.list({ limit: 1 });
    expect(page.data).toEqual([
      {
        type: "model",
        id: "claude-opus-4-8",
        display_name: "claude-opus-4-8 (grok-4.3)",
        created_at: "2026-02-02T02:40:00Z",
        max_input_tokens: 1_000_000,
        max_tokens: 131_072,
        capabilities: null,
        lifecycle: "active",
        deprecated_at: null,
        retires_at: null,
        line: null,
      } as unknown as Anthropic.ModelInfo,
    ]);
    // An upstream model nobody mapped: created from the upstream, served as itself.
    const last = await anthropic.models.retrieve("grok-imagine-image");
    expect(last).toMatchObject({ type: "model", id: "grok-imagine-image", display_name: "grok-imagine-image", created_at: "2026-02-02T02:40:02Z" });
  });

  test("paging: limit, has_more, first_id, last_id, after_id and before_id", async () => {
    const first = await anthropic.models.list({ limit: 2 });
    expect(first.data.map((m) => m.id)).toEqual(EXPECTED_IDS.slice(0, 2));
    expect(first.has_more).toBe(true);
    expect(first.first_id).toBe(EXPECTED_IDS[0]!);
    expect(first.last_id).toBe(EXPECTED_IDS[1]!);
    const second = await first.getNextPage();
    expect(second.data.map((m) => m.id)).toEqual(EXPECTED_IDS.slice(2, 4));

    const tail = await anthropic.models.list({ limit: 5, after_id: EXPECTED_IDS.at(-3)! });
    expect(tail.data.map((m) => m.id)).toEqual(EXPECTED_IDS.slice(-2));
    expect(tail.has_more).toBe(false);

    const before = await anthropic.models.list({ limit: 2, before_id: EXPECTED_IDS[5]! });
    expect(before.data.map((m) => m.id)).toEqual(EXPECTED_IDS.slice(3, 5));
    expect(before.has_more).toBe(true);
    const earlier = await before.getNextPage(); // goes backwards, with before_id = first_id
    expect(earlier.data.map((m) => m.id)).toEqual(EXPECTED_IDS.slice(1, 3));

    const all = await anthropic.models.list({ limit: 1000 });
    expect(all.data.length).toBe(EXPECTED_IDS.length);
    expect(all.has_more).toBe(false);
  });

  test("a bad page query is a 400 in the Anthropic envelope", async () => {
    for (const query of ["limit=0", "limit=1001", "limit=abc", "after_id=nope", "after_id=my-fast&before_id=grok-4.3"]) {
      const res = await fetch(`${rig.gw.url}/v1/models?${query}`, { headers: { "x-api-key": "k", "anthropic-version": "2023-06-01" } });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    }
  });

  test("Claude Code's discovery: GET /v1/models?limit=1000 with a Bearer token and anthropic-version", async () => {
    const res = await fetch(`${rig.gw.url}/v1/models?limit=1000`, {
      headers: { authorization: "Bearer sk-cc", "anthropic-version": "2023-06-01" },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: Array<{ id: string; type: string }> };
    const kept = body.data.map((m) => m.id).filter((id) => id.startsWith("claude") || id.startsWith("anthropic"));
    expect(kept).toEqual(EXPECTED_IDS.filter((id) => id.startsWith("claude")));
    expect(body.data.every((m) => m.type === "model")).toBe(true);
  });

  test("models.retrieve: listed names, names a glob maps, and a 404 for the rest", async () => {
    expect((await anthropic.models.retrieve("my-fast")).display_name).toBe("my-fast (grok-4.20-0309-reasoning)");
    const viaGlob = await anthropic.models.retrieve("claude-opus-4-1");
    expect(viaGlob).toMatchObject({ id: "claude-opus-4-1", display_name: "claude-opus-4-1 (grok-4.3)" });
    const err = await anthropic.models.retrieve("gpt-nonexistent").catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    expect(err.message).toContain("gpt-nonexistent");
  });

  test("/v1/v1 works as the seed's base URL makes it", async () => {
    const seedStyle = new Anthropic({ baseURL: `${rig.gw.url}/v1`, apiKey: "k", maxRetries: 0 });
    expect((await seedStyle.models.list({ limit: 1 })).data[0]!.id).toBe(EXPECTED_IDS[0]!);
    expect((await seedStyle.models.retrieve("grok-4.3")).id).toBe("grok-4.3");
  });
});

describe("OpenAI clients", () => {
  test("models.list(): OpenAI's list shape with every model", async () => {
    const page = await openai.models.list();
    expect(page.data.map((m) => m.id)).toEqual(EXPECTED_IDS);
    expect(page.data[0]).toEqual({ id: "claude-opus-4-8", object: "model", created: 1770000000, owned_by: "grok2api" } as OpenAI.Model);
    expect(page.data.at(-1)).toEqual({ id: "grok-imagine-image", object: "model", created: 1770000002, owned_by: "xai" } as OpenAI.Model);
    const raw = await fetch(`${rig.gw.url}/v1/models`, { headers: { authorization: "Bearer x" } });
    expect(((await raw.json()) as { object: string }).object).toBe("list");
  });

  test("models.retrieve, and a 404 in the OpenAI envelope", async () => {
    expect(await openai.models.retrieve("grok-4.3")).toEqual({ id: "grok-4.3", object: "model", created: 1770000000, owned_by: "xai" } as OpenAI.Model);
    const err = await openai.models.retrieve("nope-model").catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.error).toMatchObject({ message: expect.stringContaining("nope-model"), param: null });
    const raw = await fetch(`${rig.gw.url}/v1/models/nope-model`, { headers: { authorization: "Bearer x" } });
    expect(Object.keys((await raw.json()) as object)).toEqual(["error"]);
  });
});

describe("when the upstream cannot list its models", () => {
  test("the mapped names are still listed, and an auth failure is still an error", async () => {
    const locked = startGateway(fake.baseUrl, { modelMap: OVERRIDES, clientKeys: ["gw-key"] });
    try {
      models = () => xaiError(503, "Service Unavailable");
      const client = new Anthropic({ baseURL: locked.url, apiKey: "gw-key", maxRetries: 0 });
      const ids: string[] = [];
      for await (const m of client.models.list({ limit: 4 })) ids.push(m.id);
      expect(ids).toEqual(EXPECTED_IDS.filter((id) => !UPSTREAM.includes(id)));
      expect(fake.last.path).toBe("/v1/models");
      expect(fake.last.headers.get("authorization")).toBe("Bearer xai-test-upstream-key");

      const bad = new OpenAI({ baseURL: `${locked.url}/v1`, apiKey: "wrong", maxRetries: 0 });
      const err = await bad.models.list().catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      const noKey = await fetch(`${locked.url}/v1/models`);
      expect(noKey.status).toBe(401);
      expect(Object.keys((await noKey.json()) as object)).toEqual(["error"]);
    } finally {
      await locked.stop();
    }
  });
});
