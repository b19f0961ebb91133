import { promisify } from 'node:util';
import { gzip as gzipCallback, gzipSync } from 'node:zlib';
import { ScrapeBody } from '../http/deps.js';
import type { SelfMetrics } from './self-metrics.js';

const gzip = promisify(gzipCallback);

interface Published {
  text: Buffer;
  gzip: Buffer;
}

const EMPTY: Published = { text: Buffer.alloc(0), gzip: Buffer.alloc(0) };

/**
 * The last complete exposition of the Sentry families. A cycle publishes all sections at once and the
 * reference is swapped in one assignment, so a scrape sees either the old cycle or the new one, never a
 * mix. Sections are kept per collector: a collector that failed this cycle keeps its last good text.
 *
 * A scrape appends the small, always-current self-metrics. With gzip, each part is its own gzip member;
 * concatenated members are one valid gzip stream (RFC 1952 §2.2), so the big part is compressed once per
 * cycle instead of once per scrape.
 */
export class Snapshot {
  private sections = new Map<string, string>();
  private published: Published = EMPTY;
  private publishedAt: number | undefined;

  constructor(private readonly self: SelfMetrics) {}

  /** Replaces the given sections, keeps the others, and publishes the whole. */
  async publish(updates: ReadonlyMap<string, string>, order: readonly string[], now: number): Promise<void> {
    const next = new Map(this.sections);
    for (const [key, text] of updates) next.set(key, text);
    const text = Buffer.from(order.map((key) => next.get(key) ?? '').join(''), 'utf8');
    const zipped = text.length === 0 ? Buffer.alloc(0) : await gzip(text);
    this.sections = next;
    this.published = { text, gzip: zipped };
    this.publishedAt = now;
  }

  /** When the Sentry part was last published (ms), if ever. */
  get lastPublished(): number | undefined {
    return this.publishedAt;
  }

  /** Bytes of the Sentry part, for tests and benchmarks. */
  get sentryText(): string {
    return this.published.text.toString('utf8');
  }

  async scrape(acceptGzip: boolean): Promise<ScrapeBody> {
    const current = this.published;
    const selfText = Buffer.from(await this.self.render(), 'utf8');
    if (!acceptGzip) return new ScrapeBody([current.text, selfText], false);
    // The self-metrics are a few KiB: compressing them here is cheaper than a trip to the thread pool.
    return new ScrapeBody([current.gzip, gzipSync(selfText)], true);
  }
}
