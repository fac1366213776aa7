/** Polls until check returns a truthy value; fails with the description after timeoutMs. No fixed sleeps in tests. */
export async function waitFor<T>(check: () => T | Promise<T>, description: string, timeoutMs = 15_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
