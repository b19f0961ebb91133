import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Family } from '../collectors/collector.js';
import { renderFamilyChunks } from './exposition.js';

const gzip = promisify(gzipCallback);

/** Where rendered sections go: the snapshot that serves them (in the thread that serves HTTP). */
export type SectionSink = (name: string, parts: Buffer[], now: number) => void;

/**
 * Renders a collector's families into its section of the exposition, gzip members per family:
 * concatenated members are one valid gzip stream (RFC 1952 §2.2), so a family is compressed once when it
 * changes, not once per scrape, and an update of one family does not recompress the others. A family object
 * published again (a collector publishing its progress hands over the families that did not change as the
 * same objects) is neither rendered nor compressed again.
 */
export class SectionRenderer {
  private readonly rendered = new WeakMap<Family, Buffer>();

  constructor(private readonly sink: SectionSink) {}

  /** Renders the families (yielding to the event loop between slices) and hands the section over. */
  async publishFamilies(name: string, families: readonly Family[], now: number): Promise<void> {
    const parts: Buffer[] = [];
    for (const family of families) {
      let part = this.rendered.get(family);
      if (part === undefined) {
        // Each chunk of the text its own gzip member, compressed as it is written: a family's whole text is
        // never held, only a chunk of it and the compressed members.
        const members: Buffer[] = [];
        await renderFamilyChunks(family, async (bytes) => {
          members.push(await gzip(bytes));
        });
        part = members.length === 1 ? members[0]! : Buffer.concat(members);
        this.rendered.set(family, part);
      }
      parts.push(part);
    }
    this.sink(name, parts, now);
  }
}
