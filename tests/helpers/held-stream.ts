/**
 * Streams held open on purpose: a fake-upstream SSE response that sends its
 * first chunks, then waits for a gate before sending the rest; and a client
 * reader that reads a gateway's SSE response up to a given event.
 */
const enc = new TextEncoder();
const frame = (c: unknown) => enc.encode(`data: ${JSON.stringify(c)}\n\n`);

/** Upstream side: `before`, then (once `until` resolves) `after` and [DONE]. `until` never resolving = a hung upstream. */
export function heldStream(before: unknown[], after: unknown[], until: Promise<void>): Response {
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const c of before) controller.enqueue(frame(c));
      await until;
      try {
        for (const c of after) controller.enqueue(frame(c));
        controller.enqueue(enc.encode("data: [DONE]\n\n"));
        controller.close();
      } catch {
        // the gateway went away
      }
    },
  });
  return new Response(stream, { headers: { "content-type": "text/event-stream" } });
}

/** Client side: reads an SSE response as text, on demand. */
export class SseClient {
  text = "";
  done = false;
  private reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> };
  private decoder = new TextDecoder();

  constructor(res: Response) {
    if (!res.body) throw new Error("response has no body");
    this.reader = res.body.getReader();
  }

  /** Reads until the text so far contains `needle` (true), or the stream ends or breaks first (false). */
  async readUntil(needle: string): Promise<boolean> {
    while (!this.text.includes(needle)) {
      if (this.done) return false;
      try {
        const { done, value } = await this.reader.read();
        if (done) this.done = true;
        else this.text += this.decoder.decode(value, { stream: true });
      } catch {
        this.done = true;
      }
    }
    return true;
  }

  /** Reads to the end (or until the connection breaks). */
  async readAll(): Promise<string> {
    await this.readUntil("\u0000never\u0000");
    return this.text;
  }
}
