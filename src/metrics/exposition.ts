import type { Family, Sample } from '../collectors/collector.js';

/**
 * A small writer for the Prometheus text format 0.0.4. The Sentry families are written here rather than
 * through prom-client because the Python exporter's `sentry_issues` is a gauge histogram with
 * non-numeric `le` values ("1h", "24h"), which prom-client cannot express, and because rendering plain
 * rows straight to text once per cycle is cheaper than building registries.
 */

const NEEDS_ESCAPE = /[\\\n"]/;

export function escapeLabelValue(value: string): string {
  // Nearly every value (slugs, ids, dates) needs no escaping: skip the three replaces for them.
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function renderSample(s: Sample): string {
  if (s.labels.length === 0) return `${s.name} ${formatValue(s.value)}\n`;
  let labels = '';
  for (const [k, v] of s.labels) labels += `${labels === '' ? '' : ','}${k}="${escapeLabelValue(v)}"`;
  return `${s.name}{${labels}} ${formatValue(s.value)}\n`;
}

function header(family: Family): string {
  return `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
}

export function renderFamily(family: Family): string {
  let text = header(family);
  for (const s of family.samples) text += renderSample(s);
  return text;
}

export function renderFamilies(families: Family[]): string {
  return families.map(renderFamily).join('');
}

/** Samples rendered between two yields to the event loop. */
const SLICE = 2000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Bytes of a chunk that one family's rendering fills before it starts the next. */
const CHUNK = 256 * 1024;

/**
 * One family as UTF-8 bytes, the same text as `renderFamilies` writes, handed to `take` a chunk of up to
 * 256 KiB at a time (each awaited before the next is written: the chunk's memory is then used again, so a
 * caller that keeps bytes copies them). Rendered in slices with a yield to the event loop between them (a
 * large organization's family takes tens of milliseconds to render, and other work of the thread must not
 * wait behind it). Each sample's line is written into the chunk as soon as it is made: no string of the
 * family or of a slice is built, and no more than a chunk of its bytes is held at once.
 */
export async function renderFamilyChunks(
  family: Family,
  take: (bytes: Buffer) => Promise<void> | void,
): Promise<void> {
  let chunk = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  const write = async (line: string): Promise<void> => {
    // A UTF-8 byte count at most three times the UTF-16 length: room for the line, or the next chunk.
    if (used + line.length * 3 > chunk.length) {
      if (used > 0) await take(chunk.subarray(0, used));
      if (line.length * 3 > chunk.length) chunk = Buffer.allocUnsafe(line.length * 3);
      used = 0;
    }
    used += chunk.write(line, used, 'utf8');
  };
  await write(header(family));
  let inSlice = 0;
  for (const s of family.samples) {
    await write(renderSample(s));
    if (++inSlice >= SLICE) {
      inSlice = 0;
      await nextTurn();
    }
  }
  if (used > 0) await take(chunk.subarray(0, used));
}

/** One family as UTF-8 bytes in one buffer (see renderFamilyChunks). */
export async function renderFamilyBytes(family: Family): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await renderFamilyChunks(family, (bytes) => {
    chunks.push(Buffer.from(bytes));
  });
  return Buffer.concat(chunks);
}
