import { promisify } from 'node:util';
import { gzip as gzipCallback, gzipSync } from 'node:zlib';
import type { SelfMetrics } from './self-metrics.js';

const gzip = promisify(gzipCallback);

/**
 * The body for one scrape: pre-rendered byte chunks (the cached sections, then the small self-metrics),
 * gzip-encoded when the scraper accepts it. The server writes the chunks as they are, so a scrape never
 * copies the cached exposition.
 */
export class ScrapeBody {
  constructor(
    readonly chunks: readonly Buffer[],
    readonly gzip: boolean,
  ) {}

  get length(): number {
    return this.chunks.reduce((sum, c) => sum + c.length, 0);
  }

  /** All bytes in one buffer: a copy, for tests and tools; the server streams `chunks`. */
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** One collector's part of the exposition, as text and as its own gzip member. */
interface Section {
  text: Buffer;
  gzip: Buffer;
}

/** The published state: sections in exposition order, swapped in one assignment. */
interface Published {
  text: Buffer[];
  gzip: Buffer[];
}

/**
 * The last complete exposition of the Sentry families, one section per collector. A collector publishes
 * its section as soon as its run is done; the reference to the whole is swapped in one assignment, so a
 * scrape sees a section either before or after an update, never half of one. A collector that failed keeps
 * its last good section.
 *
 * With gzip, each section is its own gzip member; concatenated members are one valid gzip stream (RFC 1952
 * §2.2), so a section is compressed once when it changes, not once per scrape, and an update of one section
 * does not recompress the others.
 */
export class Snapshot {
  private readonly sections = new Map<string, Section>();
  private published: Published = { text: [], gzip: [] };
  private publishedAt: number | undefined;

  constructor(
    private readonly self: SelfMetrics,
    /** Section names in exposition order; a section not listed goes last. */
    private readonly order: readonly string[],
  ) {}

  /** Replaces one section and publishes the whole. */
  async publish(name: string, text: string, now: number): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    const section = { text: bytes, gzip: bytes.length === 0 ? Buffer.alloc(0) : await gzip(bytes) };
    this.sections.set(name, section);
    const names = [...this.sections.keys()].sort((a, b) => rank(this.order, a) - rank(this.order, b));
    const parts = names.map((n) => this.sections.get(n)).filter((s): s is Section => s !== undefined);
    this.published = { text: parts.map((s) => s.text), gzip: parts.map((s) => s.gzip) };
    this.publishedAt = now;
  }

  /** When a section was last published (ms), if ever. */
  get lastPublished(): number | undefined {
    return this.publishedAt;
  }

  /** The Sentry part as text, for tests and benchmarks. */
  get sentryText(): string {
    return Buffer.concat(this.published.text).toString('utf8');
  }

  async scrape(acceptGzip: boolean): Promise<ScrapeBody> {
    const current = this.published;
    const selfText = Buffer.from(await this.self.render(), 'utf8');
    if (!acceptGzip) return new ScrapeBody([...current.text, selfText], false);
    // The self-metrics are a few KiB: compressing them here is cheaper than a trip to the thread pool.
    return new ScrapeBody([...current.gzip, gzipSync(selfText)], true);
  }
}

function rank(order: readonly string[], name: string): number {
  const i = order.indexOf(name);
  return i === -1 ? order.length : i;
}
