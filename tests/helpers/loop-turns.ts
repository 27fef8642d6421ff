/** How many times the event loop got a turn (a 0 ms interval ran) while `work` was under way, and its result. */
export async function loopTurnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  const ticking = setInterval(() => turns++, 0);
  try {
    const value = await work();
    return { value, turns };
  } finally {
    clearInterval(ticking);
  }
}
