/**
 * Polls `probe` until it gives a value (anything but undefined, null or false), and returns it; throws
 * naming `what` past `ms`. Every wait of a test has a deadline.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
