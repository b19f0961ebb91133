import { gzipSync } from 'node:zlib';

/** How long a rendering of the self-metrics is served before it is rendered again (unless invalidated). */
export const SELF_METRICS_MAX_AGE_MS = 1000;

/** A part of the exposition as served: text and its own gzip member, rendered together. */
export interface Rendered {
  text: Buffer;
  gzip: Buffer;
  /** Changes with every rendering: a body built from this one is current while it is unchanged. */
  generation: number;
}

/** Something that has a current rendering to serve. */
export interface RenderedSource {
  current(): Promise<Rendered>;
}

/** A part of what /metrics serves: its current rendering, and synchronously whether that is still current. */
export interface ServedSource extends RenderedSource {
  /**
   * The current rendering when serving it needs no work (no rendering due), else undefined: a scrape of an
   * unchanged exposition is answered without a promise or an allocation.
   */
  peek(): Rendered | undefined;
}

/**
 * A small part of the exposition (the exporter's own metrics) rendered at most once per `maxAgeMs`:
 * reading the process metrics costs a few system calls, which a scrape should not pay each time.
 * `invalidate` makes the next `current()` render afresh, so that what changed shows at once.
 */
export class CachedRendering implements RenderedSource {
  private rendered: { at: number; value: Rendered } | undefined;
  private rendering: { epoch: number; promise: Promise<Rendered> } | undefined;
  private generation = 0;
  /** Bumped by `invalidate`: a rendering started before is not reused. */
  private epoch = 0;

  constructor(
    private readonly render: () => Promise<string>,
    private readonly maxAgeMs = SELF_METRICS_MAX_AGE_MS,
  ) {}

  invalidate(): void {
    this.rendered = undefined;
    this.epoch++;
  }

  /** The rendering while it is younger than `maxAgeMs` and not invalidated. */
  peek(): Rendered | undefined {
    const cached = this.rendered;
    return cached !== undefined && performance.now() - cached.at < this.maxAgeMs ? cached.value : undefined;
  }

  current(): Promise<Rendered> {
    const cached = this.peek();
    if (cached !== undefined) return Promise.resolve(cached);
    if (this.rendering?.epoch === this.epoch) return this.rendering.promise;
    const epoch = this.epoch;
    const promise = this.render().then((text) => {
      const bytes = Buffer.from(text, 'utf8');
      // A few KiB: compressing here is cheaper than a trip to the thread pool.
      const value = { text: bytes, gzip: gzipSync(bytes), generation: ++this.generation };
      if (epoch === this.epoch) this.rendered = { at: performance.now(), value };
      return value;
    });
    const rendering = { epoch, promise };
    this.rendering = rendering;
    const done = () => {
      if (this.rendering === rendering) this.rendering = undefined;
    };
    promise.then(done, done);
    return promise;
  }
}

/** A rendering handed over by another thread: the last one received is served. */
export class ReceivedRendering implements ServedSource {
  private value: Rendered = { text: Buffer.alloc(0), gzip: Buffer.alloc(0), generation: 0 };

  set(text: Uint8Array, gzip: Uint8Array): void {
    this.value = {
      text: Buffer.from(text.buffer, text.byteOffset, text.byteLength),
      gzip: Buffer.from(gzip.buffer, gzip.byteOffset, gzip.byteLength),
      generation: this.value.generation + 1,
    };
  }

  peek(): Rendered {
    return this.value;
  }

  current(): Promise<Rendered> {
    return Promise.resolve(this.value);
  }
}
