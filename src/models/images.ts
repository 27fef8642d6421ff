/** Whether an OpenAI-style chat request carries images (`image_url` content parts), for routing. Pure. */
export function imagesInChat(messages: unknown): boolean {
  if (!Array.isArray(messages)) return false;
  for (const m of messages) {
    const content = (m as { content?: unknown } | null)?.content;
    if (!Array.isArray(content)) continue;
    for (const part of content) if ((part as { type?: unknown } | null)?.type === "image_url") return true;
  }
  return false;
}
