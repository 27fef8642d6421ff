/** One fake upstream, one gateway and one SDK client per test file, reset before each test. */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach } from "bun:test";
import type { Config } from "../../src/config";
import { FakeUpstream } from "./fake-upstream";
import { startGateway, type Gateway } from "./gateway";

/** An SDK client for a gateway, with retries off so each test sees each answer. */
export const clientFor = (gw: Gateway) => new Anthropic({ baseURL: gw.url, apiKey: "test", maxRetries: 0 });

export interface Harness {
  fake: FakeUpstream;
  gw: Gateway;
  client: Anthropic;
}

/** Registers the hooks; the returned object is filled in before the first test runs. */
export function useGateway(overrides: Partial<Config> = {}): Harness {
  const h = {} as Harness;
  beforeAll(() => {
    h.fake = new FakeUpstream();
    h.gw = startGateway(h.fake.baseUrl, overrides);
    h.client = clientFor(h.gw);
  });
  afterAll(async () => {
    await h.gw.stop();
    h.fake.stop();
  });
  beforeEach(() => h.fake.reset());
  return h;
}

/**
 * Like useGateway, with the gateway speaking the xAI Responses dialect to the fake
 * (`[upstream] api = "responses"`; the fake answers from tests/helpers/fake-responses.ts).
 */
export function useResponsesGateway(overrides: Partial<Config> = {}, keys: string[] = ["xai-test-upstream-key"]): Harness {
  const h = {} as Harness;
  beforeAll(() => {
    h.fake = new FakeUpstream();
    h.gw = startGateway(h.fake.baseUrl, { upstream: { baseUrl: h.fake.baseUrl, keys, api: "responses" }, ...overrides });
    h.client = clientFor(h.gw);
  });
  afterAll(async () => {
    await h.gw.stop();
    h.fake.stop();
  });
  beforeEach(() => h.fake.reset());
  return h;
}
