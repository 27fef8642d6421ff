/** The README's Files and Message batches examples, run as scripts against the gateway (files and batches kept by the gateway). */
import { expect, test } from "bun:test";
import { completion } from "../helpers/fake-upstream";
import { lastUserText } from "../helpers/fake-xai-apis";
import { readmeExample, runTs } from "../helpers/readme-example";
import { recordsConfig } from "../helpers/records";
import { useFakeUpstream, useGateways } from "../helpers/setup";

const fake = useFakeUpstream();
const start = useGateways(fake);

test("### Files: the upload and the document block, as written, with the document's text upstream", async () => {
  fake.on((req) => Response.json(completion({ content: "PELICAN-42" })));
  const gw = start({ upstream: { baseUrl: fake.baseUrl, keys: [] }, ...recordsConfig() });
  const out = await runTs(readmeExample("### Files", gw.url));
  expect(out).toMatch(/^file_\w+ \[/);
  expect(out).toContain("PELICAN-42");
  expect(JSON.stringify(fake.last.body)).toContain("The launch code is PELICAN-42.");
  // The client's own key went upstream (the gateway forwards keys here).
  expect(fake.last.headers.get("authorization")).toBe("Bearer xai-user-key");
}, 30_000);

test("### Message batches: create, poll, results, as written", async () => {
  fake.on((req) => Response.json(completion({ content: `Fact: ${lastUserText(req.body)}` })));
  const gw = start({ upstream: { baseUrl: fake.baseUrl, keys: [] }, ...recordsConfig() });
  const out = await runTs(readmeExample("### Message batches", gw.url));
  expect(out).toContain("q0 [");
  expect(out).toContain("Fact: One fact about Paris.");
  expect(out).toContain("Fact: One fact about Rome.");
}, 30_000);
