/**
 * Waiting in tests: poll for the condition a test needs, with a timeout that names what was awaited,
 * instead of sleeping a fixed time and hoping the machine was fast enough.
 */

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Thrown by a `waitUntil` check when waiting longer cannot help (the process it waits for exited). */
export class GiveUp extends Error {}

/**
 * Polls `check` every `intervalMs` until it returns true; throws after `timeoutMs` naming what was awaited
 * and the last error `check` threw. An error thrown by `check` counts as "not yet", except `GiveUp`.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err;
    }
    await delay(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
