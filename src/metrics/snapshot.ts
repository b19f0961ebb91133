import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gunzipSync, gzip as gzipCallback } from 'node:zlib';
import type { Family } from '../collectors/collector.js';
import { renderFamilyBytes } from './exposition.js';
import type { SelfMetrics } from './self-metrics.js';

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/**
 * The body for one scrape: pre-rendered byte chunks, gzip-encoded when the scraper accepts it. The server
 * sends a single chunk as it is and streams several.
 */
export class ScrapeBody {
  constructor(
    readonly chunks: readonly Buffer[],
    readonly gzip: boolean,
  ) {}

  get length(): number {
    return this.chunks.reduce((sum, c) => sum + c.length, 0);
  }

  /** All bytes in one buffer (the chunk itself when there is one). */
  get body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }
}

/**
 * Part of the exposition (one family, or a section published as text) as its own gzip member. The text is
 * not kept: a large organization's exposition is megabytes, its gzip a tenth of that, and scrapers ask for
 * gzip (a plain scrape decompresses, off the event loop).
 */
interface Part {
  gzip: Buffer;
}

/** The published state: parts in exposition order, swapped in one assignment. */
interface Published {
  gzip: Buffer[];
  generation: number;
}

/** A whole body as last built, and what it was built from. */
interface Body {
  published: number;
  self: number;
  bytes: Buffer;
}

/**
 * The last complete exposition of the Sentry families, one section per collector. A collector publishes its
 * section as soon as it has values; the reference to the whole is swapped in one assignment, so a scrape
 * sees a section either before or after an update, never half of one. A collector that failed keeps its last
 * good section.
 *
 * With gzip, each family is its own gzip member; concatenated members are one valid gzip stream (RFC 1952
 * §2.2), so a family is compressed once when it changes, not once per scrape, and an update of one family
 * does not recompress the others. A family object published again (a collector that publishes its progress
 * hands over the families that did not change as the same objects) is neither rendered nor compressed again.
 *
 * A scrape is answered with one buffer: the sections and the self-metrics (rendered at most once a second,
 * see SelfMetrics) concatenated once per change, so that serving a scrape costs no rendering, no compression
 * and no copy. Only the gzip members are kept; a plain scrape's body is decompressed from them, off the
 * event loop, and kept until the exposition changes.
 */
export class Snapshot {
  private readonly sections = new Map<string, Part[]>();
  private readonly rendered = new WeakMap<Family, Part>();
  private published: Published = { gzip: [], generation: 0 };
  private publishedAt: number | undefined;
  private gzipBody: Body | undefined;
  private plainBody: Body | undefined;

  constructor(
    private readonly self: SelfMetrics,
    /** Section names in exposition order; a section not listed goes last. */
    private readonly order: readonly string[],
  ) {}

  /** Replaces one section with these families and publishes the whole. */
  async publishFamilies(name: string, families: readonly Family[], now: number): Promise<void> {
    const parts: Part[] = [];
    for (const family of families) {
      let part = this.rendered.get(family);
      if (part === undefined) {
        part = await compressed(await renderFamilyBytes(family));
        this.rendered.set(family, part);
      }
      parts.push(part);
    }
    this.swap(name, parts, now);
  }

  /** Replaces one section with this text and publishes the whole. */
  async publish(name: string, text: string, now: number): Promise<void> {
    this.swap(name, [await compressed(Buffer.from(text, 'utf8'))], now);
  }

  private swap(name: string, parts: Part[], now: number): void {
    this.sections.set(name, parts);
    const names = [...this.sections.keys()].sort((a, b) => rank(this.order, a) - rank(this.order, b));
    const all = names.flatMap((n) => this.sections.get(n) ?? []);
    this.published = { gzip: all.map((p) => p.gzip), generation: this.published.generation + 1 };
    this.publishedAt = now;
  }

  /** When a section was last published (ms), if ever. */
  get lastPublished(): number | undefined {
    return this.publishedAt;
  }

  /** The Sentry part as text, for tests and benchmarks. */
  get sentryText(): string {
    const zipped = Buffer.concat(this.published.gzip);
    return zipped.length === 0 ? '' : gunzipSync(zipped).toString('utf8');
  }

  async scrape(acceptGzip: boolean): Promise<ScrapeBody> {
    const self = await this.self.current();
    const current = this.published;
    const cached = acceptGzip ? this.gzipBody : this.plainBody;
    if (cached?.published === current.generation && cached.self === self.generation)
      return new ScrapeBody([cached.bytes], acceptGzip);
    let bytes: Buffer;
    if (acceptGzip) {
      bytes = Buffer.concat([...current.gzip, self.gzip]);
    } else {
      const zipped = Buffer.concat(current.gzip);
      bytes = Buffer.concat([zipped.length === 0 ? zipped : await gunzip(zipped), self.text]);
    }
    const body: Body = { published: current.generation, self: self.generation, bytes };
    if (acceptGzip) this.gzipBody = body;
    else this.plainBody = body;
    return new ScrapeBody([body.bytes], acceptGzip);
  }
}

async function compressed(text: Buffer): Promise<Part> {
  return { gzip: text.length === 0 ? Buffer.alloc(0) : await gzip(text) };
}

function rank(order: readonly string[], name: string): number {
  const i = order.indexOf(name);
  return i === -1 ? order.length : i;
}
