import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gunzipSync } from 'node:zlib';
import type { ServedSource } from './rendering.js';

const gunzip = promisify(gunzipCallback);

/**
 * The body for one scrape: pre-rendered byte chunks, gzip-encoded when the scraper accepts it. The server
 * writes the chunks as they are, one after the other.
 */
export class ScrapeBody {
  /** Bytes in all. */
  readonly length: number;

  constructor(
    readonly chunks: readonly Buffer[],
    readonly gzip: boolean,
  ) {
    this.length = chunks.reduce((sum, c) => sum + c.length, 0);
  }

  /** All bytes in one buffer (the chunk itself when there is one). */
  get body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
  }
}

/** The published sections in exposition order, swapped in one assignment. */
interface Published {
  gzip: Buffer[];
  generation: number;
}

/** A whole body as last built, and what it was built from. */
interface Body {
  published: number;
  self: number[];
  body: ScrapeBody;
}

/**
 * What /metrics serves: the last complete section of each collector (gzip members, as SectionRenderer
 * produced them) and, after them, the exporter's own metrics. A collector publishes its section as soon as
 * it has values; the reference to the whole is swapped in one assignment, so a scrape sees a section either
 * before or after an update, never half of one. A collector that failed keeps its last good section.
 *
 * A scrape is answered with one buffer: the sections and the self-metrics (each rendered at most once a
 * second) concatenated once per change, so that serving a scrape costs no rendering, no compression and no
 * copy; while nothing changed, `scrape` answers synchronously with the same ScrapeBody object (no promise,
 * no allocation). Only gzip members are kept (a large organization's exposition is megabytes, its gzip a
 * tenth of that, and scrapers ask for gzip): a plain scrape's body is decompressed from them, off the event
 * loop, and kept until the exposition changes.
 */
export class Snapshot {
  private readonly sections = new Map<string, Buffer[]>();
  private order: readonly string[] = [];
  private published: Published = { gzip: [], generation: 0 };
  private publishedAt: number | undefined;
  private gzipBody: Body | undefined;
  private plainBody: Body | undefined;

  /** `self`: the self-metrics, in exposition order after the sections. */
  constructor(private readonly self: readonly ServedSource[]) {}

  /** Section names in exposition order; a section not listed goes last. */
  setOrder(order: readonly string[]): void {
    this.order = order;
    this.publish();
  }

  /** Replaces one section (its families' gzip members) and publishes the whole. */
  setSection(name: string, parts: readonly Buffer[], now: number): void {
    this.sections.set(name, [...parts]);
    this.publishedAt = now;
    this.publish();
  }

  private publish(): void {
    const names = [...this.sections.keys()].sort((a, b) => rank(this.order, a) - rank(this.order, b));
    this.published = {
      gzip: names.flatMap((n) => this.sections.get(n) ?? []),
      generation: this.published.generation + 1,
    };
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

  /**
   * The body for one scrape: the one built last while the sections and the self-metrics are unchanged
   * (synchronously), else a promise of a new one.
   */
  scrape(acceptGzip: boolean): ScrapeBody | Promise<ScrapeBody> {
    const cached = acceptGzip ? this.gzipBody : this.plainBody;
    if (cached?.published === this.published.generation && this.selfUnchanged(cached.self))
      return cached.body;
    return this.build(acceptGzip);
  }

  private selfUnchanged(generations: readonly number[]): boolean {
    for (let i = 0; i < this.self.length; i++) {
      if (this.self[i]!.peek()?.generation !== generations[i]) return false;
    }
    return true;
  }

  private async build(acceptGzip: boolean): Promise<ScrapeBody> {
    const self = await Promise.all(this.self.map((s) => s.current()));
    const current = this.published;
    let bytes: Buffer;
    if (acceptGzip) {
      bytes = Buffer.concat([...current.gzip, ...self.map((s) => s.gzip)]);
    } else {
      const zipped = Buffer.concat(current.gzip);
      const sentry = zipped.length === 0 ? zipped : await gunzip(zipped);
      bytes = Buffer.concat([sentry, ...self.map((s) => s.text)]);
    }
    const body: Body = {
      published: current.generation,
      self: self.map((s) => s.generation),
      body: new ScrapeBody([bytes], acceptGzip),
    };
    if (acceptGzip) this.gzipBody = body;
    else this.plainBody = body;
    return body.body;
  }
}

function rank(order: readonly string[], name: string): number {
  const i = order.indexOf(name);
  return i === -1 ? order.length : i;
}
