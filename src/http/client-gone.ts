/**
 * The upstream request's AbortController, aborted as soon as the client goes away
 * (before the first byte or mid-stream; in Bun, only abort() closes the socket).
 * Call release() once the request no longer needs it.
 */
export function abortWhenClientGoes(request: Request): { abort: AbortController; release(): void } {
  const abort = new AbortController();
  const onGone = () => abort.abort();
  request.signal.addEventListener("abort", onGone, { once: true });
  if (request.signal.aborted) abort.abort(); // gone already, before we listened
  return { abort, release: () => request.signal.removeEventListener("abort", onGone) };
}
