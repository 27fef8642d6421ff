/**
 * The Files API (/v1/files) with the official SDK, GA (`client.files`) and beta (`client.beta.files`):
 * upload, list in both paging styles, metadata, download (refused, as Anthropic does for
 * uploads), delete; a file used by `file_id` in document and image blocks over both dialects;
 * xAI's Files API as the store when the upstream is xAI; per-key isolation; clear errors; restart.
 */
import Anthropic, { toFile } from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { completion } from "../helpers/fake-upstream";
import { answer } from "../helpers/fake-responses";
import { FakeXaiApis } from "../helpers/fake-xai-apis";
import { makePdf } from "../helpers/pdf";
import { recordsConfig } from "../helpers/records";
import { clientFor, useFakeUpstream, useGateways } from "../helpers/setup";
import { tempDir } from "../helpers/temp";

const fake = useFakeUpstream();
const start = useGateways(fake);
const xai = new FakeXaiApis();

const KEYS = ["key-a-0123456789", "key-b-0123456789"];
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);

/** The fake: xAI's Files API, chat completions and Responses answers. */
function answerAll(text = "Read it.") {
  fake.on((req) => {
    const own = xai.handle(req);
    if (own) return own;
    if (req.path.endsWith("/responses")) return answer({ text: [text] })(req, 0);
    return Response.json(completion({ content: text }));
  });
}

const chats = () => fake.requests.filter((r) => r.path.endsWith("/chat/completions") || r.path.endsWith("/responses"));
const filesCalls = () => fake.requests.filter((r) => r.path.startsWith("/v1/files"));

async function raw(gw: { url: string }, method: string, path: string, key: string, body?: string | FormData, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}${path}`, { method, headers: { "x-api-key": key, "anthropic-version": "2023-06-01", ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe("files kept by the gateway (chat completions upstream)", () => {
  test("GA: upload, metadata, list page by page, download refused, delete; beta: the same file, before_id/after_id paging", async () => {
    answerAll();
    const dir = tempDir("files-");
    const gw = start({ clientKeys: KEYS, ...recordsConfig(dir) });
    const client = clientFor(gw, KEYS[0]);
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push(await client.files.upload({ file: await toFile(Buffer.from(`note ${i}`), `note-${i}.txt`, { type: "text/plain" }) }));
    }
    expect(made[0]).toMatchObject({ type: "file", filename: "note-0.txt", mime_type: "text/plain", size_bytes: 6, downloadable: false, expires_at: null });
    expect(made[0]!.id).toMatch(/^file_/);
    // The bytes are on this machine's disk; nothing went upstream.
    expect(readdirSync(join(dir, "files")).sort()).toEqual(made.map((f) => f.id).sort());
    expect(fake.requests.length).toBe(0);

    expect(await client.files.retrieveMetadata(made[1]!.id)).toMatchObject({ id: made[1]!.id, filename: "note-1.txt" });

    // GA paging: `next_page`, newest first.
    const first = await client.files.list({ limit: 2 });
    expect(first.data.map((f) => f.id)).toEqual([made[2]!.id, made[1]!.id]);
    const all = [];
    for await (const f of client.files.list({ limit: 2 })) all.push(f.id);
    expect(all).toEqual([made[2]!.id, made[1]!.id, made[0]!.id]);

    // Beta: the SDK's beta surface, and the older before_id/after_id paging.
    const beta = await client.beta.files.retrieveMetadata(made[0]!.id);
    expect(beta.id).toBe(made[0]!.id);
    const page = await raw(gw, "GET", `/v1/files?beta=true&limit=1&after_id=${made[2]!.id}`, KEYS[0]!, undefined, { "anthropic-beta": "files-api-2025-04-14" });
    expect(page.body).toMatchObject({ has_more: true, first_id: made[1]!.id, last_id: made[1]!.id });
    const back = await raw(gw, "GET", `/v1/files?beta=true&limit=5&before_id=${made[0]!.id}`, KEYS[0]!);
    expect(back.body.data.map((f: { id: string }) => f.id)).toEqual([made[2]!.id, made[1]!.id]);
    expect(back.body.has_more).toBe(false);
    const some = await raw(gw, "GET", `/v1/files?ids[]=${made[0]!.id}&ids[]=file_nope`, KEYS[0]!);
    expect(some.body.data.map((f: { id: string }) => f.id)).toEqual([made[0]!.id]);

    // An upload is not downloadable (as on Anthropic): the SDK's own error class.
    const dl = await client.files.download(made[0]!.id).catch((e) => e);
    expect(dl).toBeInstanceOf(Anthropic.FileNotDownloadableError);

    expect(await client.files.delete(made[0]!.id)).toEqual({ id: made[0]!.id, type: "file_deleted" });
    expect(existsSync(join(dir, "files", made[0]!.id))).toBe(false);
    const gone = await client.files.retrieveMetadata(made[0]!.id).catch((e) => e);
    expect(gone).toBeInstanceOf(Anthropic.NotFoundError);
    expect(gone.error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });

  test("a text file and a PDF in document blocks reach the upstream as their whole text; count_tokens counts them; an image file goes as an image", async () => {
    answerAll();
    const gw = start({ clientKeys: KEYS, ...recordsConfig() });
    const client = clientFor(gw, KEYS[0]);
    const txt = await client.files.upload({ file: await toFile(Buffer.from("The launch code is PELICAN-42."), "code.txt", { type: "text/plain" }) });
    const pdf = await client.files.upload({ file: await toFile(makePdf(["Quarterly revenue grew by 17 percent."]), "report.pdf", { type: "application/pdf" }) });
    const png = await client.beta.files.upload({ file: await toFile(PNG, "dot.png", { type: "image/png" }) });
    const msg = await client.messages.create({
      model: "grok-4.3",
      max_tokens: 50,
      messages: [
        {
          role: "user",
          content: [
            { type: "document", source: { type: "file", file_id: txt.id }, title: "Codes" },
            { type: "document", source: { type: "file", file_id: pdf.id } },
            { type: "image", source: { type: "file", file_id: png.id } } as never,
            { type: "text", text: "What do they say?" },
          ],
        },
      ],
    });
    expect(msg.content).toEqual([{ type: "text", text: "Read it." }] as never);
    const sent = JSON.stringify(chats()[0]!.body);
    expect(sent).toContain("The launch code is PELICAN-42.");
    expect(sent).toContain("Document: Codes");
    expect(sent).toContain("Quarterly revenue grew by 17 percent.");
    expect(sent).toContain(`data:image/png;base64,${Buffer.from(PNG).toString("base64")}`);
    expect(sent).not.toContain(txt.id);

    const counted = await client.messages.countTokens({
      model: "grok-4.3",
      messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: txt.id } }] }],
    });
    const bare = await client.messages.countTokens({ model: "grok-4.3", messages: [{ role: "user", content: [{ type: "document", source: { type: "text", media_type: "text/plain", data: "x" } }] }] });
    expect(counted.input_tokens).toBeGreaterThan(bare.input_tokens);

    // A file of the wrong kind for the block: a 400 naming the field.
    const wrong = await client.messages
      .create({ model: "grok-4.3", max_tokens: 5, messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: png.id } }] }] })
      .catch((e) => e);
    expect(wrong).toBeInstanceOf(Anthropic.BadRequestError);
    expect(wrong.message).toContain("messages[0].content[0]");
    expect(wrong.message).toContain("image/png");
  });

  test("per key: another key's file is a 404 everywhere (metadata, download, delete, a message), never its bytes; lists show one's own", async () => {
    answerAll();
    const gw = start({ clientKeys: KEYS, ...recordsConfig() });
    const a = clientFor(gw, KEYS[0]);
    const b = clientFor(gw, KEYS[1]);
    const secret = await a.files.upload({ file: await toFile(Buffer.from("A's secret: ORCHID"), "a.txt", { type: "text/plain" }) });
    for (const call of [() => b.files.retrieveMetadata(secret.id), () => b.files.download(secret.id), () => b.files.delete(secret.id)]) {
      const e = await call().catch((err) => err);
      expect(e).toBeInstanceOf(Anthropic.NotFoundError);
      expect(e.error.error.type).toBe("not_found_error");
    }
    const used = await b.messages
      .create({ model: "grok-4.3", max_tokens: 5, messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: secret.id } }] }] })
      .catch((e) => e);
    expect(used).toBeInstanceOf(Anthropic.NotFoundError);
    expect(used.message).toContain("messages[0].content[0].source.file_id");
    expect(chats().length).toBe(0);
    expect((await b.files.list()).data).toEqual([]);
    expect((await a.files.list()).data.map((f) => f.id)).toEqual([secret.id]);
    // Still there for its owner.
    expect((await a.files.retrieveMetadata(secret.id)).id).toBe(secret.id);
  });

  test("bad uploads: a 400 naming the field (no file part, filename, type, content, expiry), in Anthropic's envelope; over the size cap a 413", async () => {
    const gw = start({ clientKeys: KEYS, ...recordsConfig(undefined, {}, { maxBytes: 1024 }) });
    const client = clientFor(gw, KEYS[0]);
    const form = (parts: Array<[string, string | Blob, string?]>) => {
      const f = new FormData();
      for (const [k, v, name] of parts) (name ? f.append(k, v as Blob, name) : f.append(k, v as string));
      return f;
    };
    const cases: Array<[FormData, string]> = [
      [form([["purpose", "x"]]), "file: Field required"],
      [form([["file", "just text"]]), "file: expected a file"],
      [form([["file", new Blob(["x"], { type: "text/plain" }), "a/b.txt"]]), "file: the filename"],
      [form([["file", new Blob(["PK"], { type: "application/zip" }), "a.zip"]]), "application/zip cannot be used"],
      [form([["file", new Blob(["not a pdf"], { type: "application/pdf" }), "a.pdf"]]), "file: the content is not application/pdf"],
      [form([["file", new Blob([], { type: "text/plain" }), "e.txt"]]), "file: the file is empty"],
      [form([["file", new Blob(["x"], { type: "text/plain" }), "a.txt"], ["expires_in_seconds", "60"]]), "expires_in_seconds: expected an integer from 3600"],
    ];
    for (const [body, words] of cases) {
      const r = await raw(gw, "POST", "/v1/files", KEYS[0]!, body);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
      expect(r.body.error.message).toContain(words);
    }
    const big = await client.files.upload({ file: await toFile(Buffer.alloc(4096, 97), "big.txt", { type: "text/plain" }) }).catch((e) => e);
    expect(big.status).toBe(413);
    expect(big.error.error.type).toBe("request_too_large");
    expect(big.message).toContain("[files] max_bytes");
    // A JSON body is not an upload.
    const json = await raw(gw, "POST", "/v1/files", KEYS[0]!, "{}", { "content-type": "application/json" });
    expect(json.status).toBe(400);
    expect(json.body.error.message).toContain("multipart/form-data");
  });

  test("a large upload (read on the upload thread): its bytes on disk exactly, its SHA-256 recorded; a large bad one refused with the field named", async () => {
    answerAll();
    const dir = tempDir("files-large-");
    const gw = start({ clientKeys: KEYS, ...recordsConfig(dir) });
    const client = clientFor(gw, KEYS[0]);
    // 6 MB of text, different all along (a part cut or moved would show).
    const text = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `line ${i} of the large file\n`).join(""));
    expect(text.byteLength).toBeGreaterThan(5 * 1024 * 1024);
    const made = await client.files.upload({ file: await toFile(text, "large.txt", { type: "text/plain" }) });
    expect(made).toMatchObject({ filename: "large.txt", mime_type: "text/plain", size_bytes: text.byteLength });
    expect(new Uint8Array(readFileSync(join(dir, "files", made.id)))).toEqual(new Uint8Array(text));
    const db = new Database(join(dir, "grok2api.db"), { readonly: true });
    try {
      const row = db.query("SELECT sha256 FROM files WHERE id = ?").get(made.id) as { sha256: string };
      expect(row.sha256).toBe(new Bun.CryptoHasher("sha256").update(text).digest("hex"));
    } finally {
      db.close();
    }
    // The thread's refusal reaches the client as the same 400 a small upload gets.
    const fakePdf = await client.files.upload({ file: await toFile(text, "large.pdf", { type: "application/pdf" }) }).catch((e) => e);
    expect(fakePdf).toBeInstanceOf(Anthropic.BadRequestError);
    expect(fakePdf.error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(fakePdf.message).toContain("file: the content is not application/pdf");
    // And the next large upload is read as well.
    const again = await client.files.upload({ file: await toFile(text.subarray(0, 3_000_000), "part.txt", { type: "text/plain" }) });
    expect(again.size_bytes).toBe(3_000_000);
  });

  test("files survive a restart: the same store and directory serve them to a new gateway", async () => {
    answerAll();
    const dir = tempDir("files-restart-");
    const first = start({ clientKeys: KEYS, ...recordsConfig(dir) });
    const made = await clientFor(first, KEYS[0]).files.upload({ file: await toFile(Buffer.from("Kept across restarts: TULIP"), "keep.txt", { type: "text/plain" }) });
    await first.stop();
    const second = start({ clientKeys: KEYS, ...recordsConfig(dir) });
    const client = clientFor(second, KEYS[0]);
    expect((await client.files.retrieveMetadata(made.id)).filename).toBe("keep.txt");
    await client.messages.create({ model: "grok-4.3", max_tokens: 5, messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: made.id } }] }] });
    expect(JSON.stringify(chats()[0]!.body)).toContain("Kept across restarts: TULIP");
  });
});

describe("files kept in xAI's Files API (Responses upstream)", () => {
  const xaiGateway = (extra = {}) =>
    start({
      clientKeys: KEYS,
      upstream: { baseUrl: fake.baseUrl, keys: ["xai-test-upstream-key"], api: "responses" },
      ...recordsConfig(undefined, {}, { upstream: true }),
      ...extra,
    });

  test("uploaded to xAI once (expires_after before file); used in messages as its whole text, never as an xAI file reference; delete removes xAI's copy", async () => {
    answerAll();
    xai.files.clear();
    const gw = xaiGateway();
    const client = clientFor(gw, KEYS[0]);
    const made = await client.files.upload({
      file: await toFile(Buffer.from("Section 1: the whole handbook, every word."), "handbook.txt", { type: "text/plain" }),
      expires_in_seconds: 7200,
    } as never);
    expect(made.expires_at).not.toBeNull();
    const up = [...xai.files.values()];
    expect(up.length).toBe(1);
    expect(up[0]).toMatchObject({ filename: "handbook.txt", expiresAfter: 7200 });
    expect(new TextDecoder().decode(up[0]!.bytes)).toBe("Section 1: the whole handbook, every word.");

    for (let turn = 0; turn < 2; turn++) {
      await client.messages.create({
        model: "grok-4.3",
        max_tokens: 20,
        messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: made.id } }, { type: "text", text: "Summarise." }] }],
      });
    }
    const responses = fake.requests.filter((r) => r.path.endsWith("/responses"));
    expect(responses.length).toBe(2);
    for (const r of responses) {
      const sent = JSON.stringify(r.body);
      expect(sent).toContain("Section 1: the whole handbook, every word.");
      // Anthropic's semantics (the whole document in context): no input_file, so no attachment_search upstream.
      expect(sent).not.toContain("input_file");
      expect(sent).not.toContain(up[0]!.id);
    }
    // Uploaded once; read back once (then kept in memory), never uploaded again.
    expect(filesCalls().filter((r) => r.method === "POST").length).toBe(1);
    expect(filesCalls().filter((r) => r.path.endsWith("/content")).length).toBe(1);
    // No bytes on this machine.
    expect(existsSync(gw.config.files!.dir)).toBe(false);

    await client.files.delete(made.id);
    expect(xai.files.size).toBe(0);
    expect(filesCalls().some((r) => r.method === "DELETE")).toBe(true);
  });

  test("an image file becomes an input_image with its bytes; over xAI's 50 MB a file is refused at upload with 413 request_too_large, before xAI sees it", async () => {
    answerAll();
    const gw = xaiGateway();
    const client = clientFor(gw, KEYS[0]);
    const png = await client.files.upload({ file: await toFile(PNG, "dot.png", { type: "image/png" }) });
    await client.messages.create({
      model: "grok-4.3",
      max_tokens: 5,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "file", file_id: png.id } } as never, { type: "text", text: "What is it?" }] }],
    });
    const input = JSON.stringify(fake.requests.find((r) => r.path.endsWith("/responses"))!.body.input);
    expect(input).toContain(`"type":"input_image"`);
    expect(input).toContain(`data:image/png;base64,${Buffer.from(PNG).toString("base64")}`);

    const before = filesCalls().length;
    const big = await client.files
      .upload({ file: await toFile(Buffer.alloc(50 * 1024 * 1024 + 1, 97), "huge.txt", { type: "text/plain" }) })
      .catch((e) => e);
    expect(big.status).toBe(413);
    expect(big.error.error.type).toBe("request_too_large");
    expect(big.message).toContain("xAI's Files API takes at most 50 MB");
    expect(filesCalls().length).toBe(before);
    // Longer than xAI keeps a file: a 400 naming the field.
    const long = await client.files
      .upload({ file: await toFile(Buffer.from("x"), "x.txt", { type: "text/plain" }), expires_in_seconds: 40 * 86400 } as never)
      .catch((e) => e);
    expect(long.status).toBe(400);
    expect(long.message).toContain("expires_in_seconds");
  }, 60_000);
});
