import type { SentryApiError } from './errors.js';

/** Items left out of list answers because they were malformed, per endpoint, for one log line per run. */
export class SkippedItems {
  readonly #byEndpoint = new Map<string, { count: number; example: string }>();

  /** `count` items left out of answers of `problem.endpoint`, the first of which had `problem`. */
  add(problem: SentryApiError, count = 1): void {
    const entry = this.#byEndpoint.get(problem.endpoint);
    if (entry) entry.count += count;
    else this.#byEndpoint.set(problem.endpoint, { count, example: problem.message });
  }

  get count(): number {
    let n = 0;
    for (const e of this.#byEndpoint.values()) n += e.count;
    return n;
  }

  /** Per endpoint: how many, and the first problem's message (it names the URL and the field). */
  toLog(): Array<{ endpoint: string; count: number; example: string }> {
    return [...this.#byEndpoint].map(([endpoint, e]) => ({ endpoint, ...e }));
  }
}
