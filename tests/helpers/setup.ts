/**
 * The harness every server test uses: a fake upstream speaking xAI's wire
 * format, the real gateway in-process on a loopback port, and the official
 * clients pointed at it. Everything is started by the hooks these register and
 * stopped after the tests, and the fake upstream is reset before each test.
 *
 *   const h = useGateway(overrides)   one fake upstream + one gateway + clients, for the file
 *   const fake = useFakeUpstream()    just the fake upstream (for gateways of different configs,
 *                                     or the server run as a process)
 *   const start = useGateways(fake)   gateways started by a test (stopped after it) or by a
 *                                     beforeAll hook (stopped after the file)
 *   const more = useFakeUpstreams()   extra fake upstreams (one that is down, gone, elsewhere…):
 *                                     made in a test, stopped after it; made in a hook, after the file
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, beforeEach } from "bun:test";
import type { Config } from "../../src/config";
import { FakeUpstream } from "./fake-upstream";
import { startGateway, type Gateway } from "./gateway";

/** An SDK client for a gateway, with retries off so each test sees each answer. */
export const clientFor = (gw: Gateway, apiKey = "test") => new Anthropic({ baseURL: gw.url, apiKey, maxRetries: 0 });
/** The OpenAI SDK for a gateway's chat completions face, retries off. */
export const openaiFor = (gw: Gateway, apiKey = "test") => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });

export interface Harness {
  fake: FakeUpstream;
  gw: Gateway;
  client: Anthropic;
  openai: OpenAI;
}

/** A fake upstream for the file: started now, reset before each test, stopped after the file. */
export function useFakeUpstream(): FakeUpstream {
  const fake = new FakeUpstream();
  beforeEach(() => fake.reset());
  afterAll(() => fake.stop());
  return fake;
}

/**
 * Makes extra fake upstreams (a second one that is down, gone, elsewhere…): one made
 * in a test is stopped after that test; one made in a hook lives until the end of the
 * file (or of the describe that called this). Unlike useFakeUpstream's, they are not
 * reset between tests: their handler and recorded requests are the caller's.
 */
export function useFakeUpstreams(): () => FakeUpstream {
  const forTest: FakeUpstream[] = [];
  const forFile: FakeUpstream[] = [];
  let inTest = false;
  beforeEach(() => {
    inTest = true;
  });
  afterEach(() => {
    inTest = false;
    for (const fake of forTest.splice(0)) fake.stop();
  });
  afterAll(() => {
    for (const fake of forFile.splice(0)) fake.stop();
  });
  return () => {
    const fake = new FakeUpstream();
    (inTest ? forTest : forFile).push(fake);
    return fake;
  };
}

/** One fake upstream, one gateway and both SDK clients for the file. Registers the hooks; the object is filled in before the first test. */
export function useGateway(overrides: Partial<Config> = {}, fake?: FakeUpstream): Harness {
  const h = {} as Harness;
  const own = !fake;
  beforeAll(() => {
    h.fake = fake ?? new FakeUpstream();
    h.gw = startGateway(h.fake.baseUrl, overrides);
    h.client = clientFor(h.gw);
    h.openai = openaiFor(h.gw);
  });
  afterAll(async () => {
    await h.gw.stop();
    if (own) h.fake.stop();
  });
  if (own) beforeEach(() => h.fake.reset());
  return h;
}

/**
 * Starts gateways against `fake`: one started in a test is stopped after that
 * test; one started in a beforeAll hook lives until the end of the file.
 */
export function useGateways(fake: FakeUpstream): (overrides?: Partial<Config>) => Gateway {
  const forTest: Gateway[] = [];
  const forFile: Gateway[] = [];
  let inTest = false;
  beforeEach(() => {
    inTest = true;
  });
  afterEach(async () => {
    inTest = false;
    for (const gw of forTest.splice(0)) await gw.stop();
  });
  afterAll(async () => {
    for (const gw of forFile.splice(0)) await gw.stop();
  });
  return (overrides = {}) => {
    const gw = startGateway(fake.baseUrl, overrides);
    (inTest ? forTest : forFile).push(gw);
    return gw;
  };
}

/**
 * Like useGateway, with the gateway speaking the xAI Responses dialect to the fake
 * (`[upstream] api = "responses"`; the fake answers from tests/helpers/fake-responses.ts).
 */
export function useResponsesGateway(overrides: Partial<Config> = {}, keys: string[] = ["xai-test-upstream-key"]): Harness {
  const h = {} as Harness;
  const fake = new FakeUpstream();
  beforeAll(() => {
    h.fake = fake;
    h.gw = startGateway(fake.baseUrl, { upstream: { baseUrl: fake.baseUrl, keys, api: "responses" }, ...overrides });
    h.client = clientFor(h.gw);
    h.openai = openaiFor(h.gw);
  });
  afterAll(async () => {
    await h.gw.stop();
    fake.stop();
  });
  beforeEach(() => fake.reset());
  return h;
}
