/**
 * The team dashboard at /admin/: served by the gateway (embedded files, security headers,
 * 404 without an admin token), and used in a real headless Chromium (Debian's `chromium`
 * through playwright-core) against the real admin API, with the official Anthropic SDK
 * making requests with the key the page created. The test writes a screenshot.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { compiledBinary } from "../helpers/binary";
import { hasChromium, launchChromium, type Browser } from "../helpers/browser";
import { chunk, controlledStream, usageChunk, usage, type FakeUpstream, type StreamControl } from "../helpers/fake-upstream";
import { startGateway, type Gateway } from "../helpers/gateway";
import { useFakeUpstream, useFakeUpstreams } from "../helpers/setup";
import { ADMIN_TOKEN, UPSTREAM_KEY, teamsGateway } from "../helpers/teams";
import { tempDir } from "../helpers/temp";

const ARTIFACTS = join(import.meta.dir, "..", ".artifacts");
/** A real grok-4.3 answer whose usage carries cost_in_usd_ticks: 4121500 ($0.00041215) and 192 cached tokens. */
const REAL_ANSWER = JSON.parse(readFileSync(join(import.meta.dir, "..", "fixtures", "xai-grok-4.3-chat-cost.json"), "utf8"));
const REAL_COST = "$0.00041215";

/** A gateway with the admin API on, its store in a temp dir. */
const startAdminGateway = (fake: FakeUpstream, dir: string) => teamsGateway(fake.baseUrl, `sqlite://${join(dir, "grok2api.db")}`);

describe("dashboard: served by the gateway", () => {
  const fake = useFakeUpstream();
  let dir: string;
  let on: Gateway;
  let off: Gateway;
  beforeAll(async () => {
    dir = tempDir("grok2api-dashboard-");
    on = await startAdminGateway(fake, dir);
    off = startGateway(fake.baseUrl);
  });
  afterAll(async () => {
    await Promise.all([on.stop(), off.stop()]);
  });

  test("without an admin token every dashboard path answers 404 in the error envelope", async () => {
    for (const path of ["/admin", "/admin/", "/admin/index.html", "/admin/app.js", "/admin/style.css"]) {
      const res = await fetch(off.url + path, { redirect: "manual" });
      expect(res.status).toBe(404);
      const body = await res.json();
      expect(body).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    }
  });

  test("/admin redirects to /admin/; the page and its files come with their types and security headers", async () => {
    const bare = await fetch(on.url + "/admin", { redirect: "manual" });
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe("/admin/");

    const types: Record<string, string> = {
      "/admin/": "text/html",
      "/admin/index.html": "text/html",
      "/admin/app.js": "text/javascript",
      "/admin/client.js": "text/javascript",
      "/admin/chart.js": "text/javascript",
      "/admin/style.css": "text/css",
    };
    for (const [path, type] of Object.entries(types)) {
      const res = await fetch(on.url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith(type);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect((await res.text()).length).toBeGreaterThan(100);
    }
    const missing = await fetch(on.url + "/admin/nothing.js");
    expect(missing.status).toBe(404);
    // Names every JavaScript object has are no assets either.
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      expect((await fetch(`${on.url}/admin/${name}`)).status).toBe(404);
    }
  });

  test("the page has no inline script and loads nothing from another origin", async () => {
    const html = await (await fetch(on.url + "/admin/")).text();
    // Every <script> has a src; no on…= handler attributes; no style attributes.
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\bsrc="[^"]+"/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\sstyle=/i);
    for (const path of ["/admin/", "/admin/app.js", "/admin/client.js", "/admin/chart.js", "/admin/style.css"]) {
      const text = await (await fetch(on.url + path)).text();
      // The SVG namespace is an identifier, not a fetch.
      expect(text.replaceAll("http://www.w3.org/2000/svg", "")).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    }
  });
});

/** Runs the compiled binary in `cwd` until its "listening" line (other lines may come first: "store open"). */
async function runBinary(env: Record<string, string>, cwd: string) {
  const proc = Bun.spawn([await compiledBinary(), "--port", "0"], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const stop = async () => {
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await proc.exited;
    clearTimeout(timer);
  };
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (let i = 0; i < 200; i++) {
    const listening = text
      .split("\n")
      .slice(0, -1)
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === "listening");
    if (listening) {
      // Keep draining stdout so the log never blocks on a full pipe.
      void (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done);
      })();
      return { url: listening.url as string, stop };
    }
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await stop();
  throw new Error(`the binary did not start: ${text} ${await new Response(proc.stderr).text()}`);
}

describe("dashboard: in the compiled binary", () => {
  const fakes = useFakeUpstreams();
  test(
    "`bun build --compile` carries the page: the binary serves every file byte for byte, with no file beside it",
    async () => {
      const dir = tempDir("grok2api-dashboard-bin-");
      const fake = fakes();
      const bin = await runBinary(
        { XAI_API_KEY: UPSTREAM_KEY, XAI_BASE_URL: fake.baseUrl, GROK2API_ADMIN_TOKEN: ADMIN_TOKEN, GROK2API_LOG_FILE: join(dir, "app.log") },
        dir,
      );
      try {
        for (const [path, file] of [
          ["/admin/", "index.html"],
          ["/admin/app.js", "app.js"],
          ["/admin/client.js", "client.js"],
          ["/admin/chart.js", "chart.js"],
          ["/admin/style.css", "style.css"],
        ] as const) {
          const res = await fetch(bin.url + path);
          expect(res.status).toBe(200);
          expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
          expect(await res.text()).toBe(readFileSync(join(import.meta.dir, "..", "..", "src", "teams", "admin", "ui", file), "utf8"));
        }
      } finally {
        await bin.stop();
      }
    },
    180_000,
  );
});

const chromiumMissing = !hasChromium();
if (chromiumMissing && !process.env.CI) {
  console.warn("dashboard.test.ts: SKIPPING the browser tests: /usr/bin/chromium is missing (apt-get install -y chromium). Under CI=true they fail instead.");
}
const browserDescribe = chromiumMissing && !process.env.CI ? describe.skip : describe;

/** Polls `check` (bounded): the ledger is written off the hot path, the streams table every few seconds. */
async function eventually(what: string, check: () => Promise<boolean>, tries = 100, everyMs = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await Bun.sleep(everyMs);
  }
  throw new Error(`never happened: ${what}`);
}

/** The cells of the table row whose header cell is `name`. */
async function rowCells(page: Page, table: string, name: string): Promise<string[]> {
  return page.$$eval(
    `#${table} tbody tr`,
    (rows, n) => {
      const row = rows.find((r) => r.querySelector("th")?.textContent === n);
      return row ? [...row.children].map((c) => (c.textContent ?? "").trim()) : [];
    },
    name,
  );
}

browserDescribe("dashboard: in a real headless Chromium", () => {
  // Made in the hook (not at collection), so a skipped run starts no server; stopped after the file.
  const fakes = useFakeUpstreams();
  let fake: FakeUpstream;
  let dir: string;
  let gw: Gateway;
  let browser: Browser;
  let held: StreamControl | undefined;
  /** Content-Security-Policy violations and uncaught errors in the page: there must be none. */
  const problems: string[] = [];

  beforeAll(async () => {
    if (chromiumMissing) throw new Error("CI is set and /usr/bin/chromium is missing: .ci/run installs it (apt-get install -y chromium)");
    fake = fakes().on((req) => {
      if (req.body?.stream) {
        held = controlledStream();
        held.push(chunk({ role: "assistant", content: "Hel" }, null, "grok-4.3"));
        return held.response;
      }
      return Response.json(REAL_ANSWER);
    });
    dir = tempDir("grok2api-dashboard-");
    gw = await startAdminGateway(fake, dir);
    browser = await launchChromium();
    await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gw.url });
  });
  afterAll(async () => {
    held?.end();
    await browser?.close();
    await gw?.stop();
  });

  async function openPage(): Promise<Page> {
    const page = await browser.context.newPage();
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.setDefaultTimeout(15_000);
    return page;
  }

  test(
    "log in (a wrong token is refused), create a key, see its spend after an SDK request, usage, open streams, edit, revoke",
    async () => {
      const page = await openPage();
      const res = await page.goto(gw.url + "/admin");
      expect(res?.status()).toBe(200);
      expect(new URL(page.url()).pathname).toBe("/admin/");
      expect(await page.title()).toContain("grok2api");

      // A wrong token: a clear message, still on the login form.
      await page.getByLabel("Admin token").fill("not-the-admin-token-at-all");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.locator("#login-error", { hasText: "not accepted" }).waitFor();
      expect(await page.locator("#app").isHidden()).toBe(true);

      await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByRole("heading", { name: "Keys", level: 2 }).waitFor();
      // The token is kept for this tab only.
      expect(await page.evaluate(() => sessionStorage.getItem("grok2api.admin-token"))).toBe(ADMIN_TOKEN);
      expect(await page.evaluate(() => localStorage.length)).toBe(0);

      // Create a key with the form.
      await page.locator("#create-name").fill("alice");
      await page.locator("#create-budget_usd").fill("5");
      await page.locator("#create-budget_period").selectOption("month");
      await page.locator("#create-rpm").fill("60");
      await page.locator("#create-models").fill("grok-4*");
      await page.locator("#create-expires_at").fill("2030-01-02T03:04");
      await page.getByRole("button", { name: "Create key" }).click();
      await page.locator("#new-secret").waitFor();
      const secret = await page.locator("#new-secret-value").inputValue();
      expect(secret.length).toBeGreaterThanOrEqual(20);
      expect(await page.locator("#new-secret").textContent()).toContain("shown this once");
      // The copy button puts it on the clipboard.
      await page.getByRole("button", { name: "Copy" }).click();
      await page.locator("#status", { hasText: "copied" }).waitFor();
      expect(await page.evaluate("navigator.clipboard.readText()")).toBe(secret);

      const created = await rowCells(page, "keys-table", "alice");
      expect(created[1]).not.toContain(secret); // only the hint
      expect(created[2]).toBe("$5.00 per month");
      expect(created[3]).toBe("60 req/min");
      expect(created[4]).toBe("grok-4*");
      expect(created[5]).toMatch(/^Jan 2, 2030, 3:04\sAM$/); // the browser runs in UTC
      expect(created[6]).toBe("$0.00");
      expect(created[7]).toBe("Active");

      // Dismissed, the secret is gone from the page.
      await page.getByRole("button", { name: "I have saved it" }).click();
      expect(await page.locator("#new-secret").isHidden()).toBe(true);
      expect(await page.content()).not.toContain(secret);

      // A request with that key, through the official SDK.
      const client = new Anthropic({ baseURL: gw.url, apiKey: secret, maxRetries: 0 });
      const answer = await client.messages.create({
        model: "grok-4.3",
        max_tokens: 64,
        messages: [{ role: "user", content: "Reply with exactly: hello" }],
      });
      expect(answer.content.find((b) => b.type === "text")).toMatchObject({ text: "hello" });

      // Its spend shows in the keys table once the ledger has it (written in batches, off the hot path).
      await eventually("the key's spend in the keys table", async () => {
        await page.getByRole("button", { name: "Refresh keys" }).click();
        await page.locator("#status", { hasText: "Keys refreshed" }).waitFor();
        return (await rowCells(page, "keys-table", "alice"))[6] === REAL_COST;
      });

      // Usage: per key, per model, per day, and the chart.
      await page.getByRole("button", { name: "Show usage" }).click();
      await eventually("alice in the usage per key", async () => (await rowCells(page, "usage-key-table", "alice")).length > 0);
      const perKey = await rowCells(page, "usage-key-table", "alice");
      expect(perKey[1]).toBe("1"); // requests
      expect(perKey[4]).toBe("192"); // cached tokens
      expect(perKey[5]).toBe(REAL_COST);
      const perModel = await rowCells(page, "usage-model-table", "grok-4.3");
      expect(perModel[5]).toBe(REAL_COST);
      const today = new Date().toISOString().slice(0, 10);
      expect((await rowCells(page, "usage-day-table", today))[5]).toBe(REAL_COST);
      const chart = page.locator("#usage-chart svg[role=img]");
      expect(await chart.locator("desc").textContent()).toContain(`${today.slice(5)}: ${REAL_COST}`);
      const barHeights = await chart.locator("rect.bar").evaluateAll((bars) => bars.map((b) => Number(b.getAttribute("height"))));
      expect(barHeights.filter((h) => h > 0)).toHaveLength(1);

      // A message batch made with the key shows in the batches panel, with its counts.
      const batch = await client.messages.batches.create({
        requests: [{ custom_id: "one", params: { model: "grok-4.3", max_tokens: 16, messages: [{ role: "user", content: "hi" }] } }],
      });
      await eventually("the batch, ended, in the batches panel", async () => {
        await page.getByRole("button", { name: "Refresh batches" }).click();
        const cells = await rowCells(page, "batches-table", batch.id);
        return cells[3] === "Ended";
      });
      const listed = await rowCells(page, "batches-table", batch.id);
      expect(listed.slice(1, 7)).toEqual(["alice", "gateway", "Ended", "1", "0", "1"]);

      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, "dashboard.png");
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`dashboard screenshot: ${shot}`);

      // A stream open right now shows in the streams table (refreshed every few seconds).
      const stream = client.messages.stream({ model: "grok-4.3", max_tokens: 64, messages: [{ role: "user", content: "Say hello" }] });
      const streamDone = stream.finalMessage().catch(() => undefined);
      await eventually("the open stream in the streams table", async () => (await page.locator("#streams-table tbody tr").count()) > 0, 60, 500);
      const open = await page.locator("#streams-table tbody tr").first().locator("th, td").allTextContents();
      expect(open[1]).toBe("alice");
      expect(open[3]).toBe("/v1/messages");
      held!.push(chunk({ content: "lo" }, "stop", "grok-4.3"));
      held!.push(usageChunk(usage(10, 2)));
      held!.end();
      await streamDone;
      await eventually("the streams table empty again", async () => page.locator("#streams-empty").isVisible(), 60, 500);

      // Edit the limits: an emptied field clears its limit.
      await page.getByRole("button", { name: "Edit key alice" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.getByLabel("Requests per minute").fill("120");
      await dialog.getByLabel("Models").fill("");
      await dialog.getByRole("button", { name: "Save" }).click();
      await page.locator("#status", { hasText: "saved" }).waitFor();
      const edited = await rowCells(page, "keys-table", "alice");
      expect(edited[3]).toBe("120 req/min");
      expect(edited[4]).toBe("All");
      expect(edited[2]).toBe("$5.00 per month");
      expect(edited[5]).toMatch(/^Jan 2, 2030/);

      // Revoke, after a confirmation whose focused button is the safe one.
      await page.getByRole("button", { name: "Revoke key alice" }).click();
      const confirm = page.getByRole("dialog");
      await confirm.getByRole("heading", { name: "Revoke key?" }).waitFor();
      expect(await page.evaluate("document.activeElement?.textContent")).toBe("Cancel");
      await confirm.getByRole("button", { name: "Revoke" }).click();
      await page.locator("#status", { hasText: "revoked" }).waitFor();
      expect((await rowCells(page, "keys-table", "alice"))[7]).toBe("Revoked");
      const refused = await client.messages
        .create({ model: "grok-4.3", max_tokens: 16, messages: [{ role: "user", content: "hi" }] })
        .then(() => undefined, (e: unknown) => e);
      expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);

      // Log out: back to the login form, the token forgotten.
      await page.getByRole("button", { name: "Log out" }).click();
      await page.getByRole("heading", { name: "Log in" }).waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem("grok2api.admin-token"))).toBeNull();
      await page.close();
      expect(problems).toEqual([]);
    },
    120_000,
  );

  test(
    "keyboard only: the token field is in the tab order with a visible focus, Enter logs in, Log out is reachable and works",
    async () => {
      const page = await openPage();
      await page.goto(gw.url + "/admin/");
      await page.getByRole("heading", { name: "Log in" }).waitFor();
      // The token field has the focus on arrival; the tab order is: skip link, then the token field.
      const focusedId = () => page.evaluate<string>(`document.activeElement?.id || document.activeElement?.className || ""`);
      expect(await focusedId()).toBe("login-token");
      await page.keyboard.press("Shift+Tab");
      expect(await focusedId()).toBe("skip");
      await page.keyboard.press("Tab");
      expect(await focusedId()).toBe("login-token");
      const outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle");
      expect(outline).not.toBe("none");
      await page.keyboard.type(ADMIN_TOKEN);
      await page.keyboard.press("Enter");
      await page.locator("#status", { hasText: "Logged in" }).waitFor();
      expect(await page.locator("#app").isVisible()).toBe(true);

      // Logged in, the focus is on the main content; the header's Log out button is just before it.
      let focused = await focusedId();
      for (let i = 0; i < 10 && focused !== "logout"; i++) {
        await page.keyboard.press("Shift+Tab");
        focused = await focusedId();
      }
      expect(focused).toBe("logout");
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: "Log in" }).waitFor();
      await page.close();
      expect(problems).toEqual([]);
    },
    60_000,
  );
});
