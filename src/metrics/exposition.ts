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

/**
 * One family as UTF-8 bytes, rendered in slices with a yield to the event loop between them (like
 * `renderFamiliesSliced`); each slice becomes bytes at once, so no string of the whole family is built.
 */
export async function renderFamilyBytes(family: Family): Promise<Buffer> {
  const slices: Buffer[] = [];
  let text = header(family);
  let inSlice = 0;
  for (const s of family.samples) {
    text += renderSample(s);
    if (++inSlice >= SLICE) {
      slices.push(Buffer.from(text, 'utf8'));
      text = '';
      inSlice = 0;
      await nextTurn();
    }
  }
  slices.push(Buffer.from(text, 'utf8'));
  return slices.length === 1 ? slices[0]! : Buffer.concat(slices);
}

/**
 * The same text as `renderFamilies`, rendered in slices with a yield to the event loop between them: a
 * large organization's exposition takes tens of milliseconds to render, and scrapes of the previous
 * snapshot must not wait behind it.
 */
export async function renderFamiliesSliced(families: Family[]): Promise<string> {
  const parts: string[] = [];
  let sinceYield = 0;
  for (const family of families) {
    let text = header(family);
    for (const s of family.samples) {
      text += renderSample(s);
      if (++sinceYield >= SLICE) {
        sinceYield = 0;
        await nextTurn();
      }
    }
    parts.push(text);
  }
  return parts.join('');
}
