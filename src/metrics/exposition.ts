/**
 * A small writer for the Prometheus text format 0.0.4. The Sentry families are written here rather than
 * through prom-client because the Python exporter's `sentry_issues` is a gauge histogram with
 * non-numeric `le` values ("1h", "24h"), which prom-client cannot express, and because rendering plain
 * rows straight to text once per cycle is cheaper than building registries.
 */

export type MetricType = 'gauge' | 'counter' | 'histogram' | 'untyped';

export interface Sample {
  /** Full sample name, e.g. `sentry_issues_bucket`. */
  name: string;
  labels: ReadonlyArray<readonly [string, string]>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

export function escapeLabelValue(value: string): string {
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

export function renderFamily(family: Family): string {
  const lines: string[] = [
    `# HELP ${family.name} ${escapeHelp(family.help)}`,
    `# TYPE ${family.name} ${family.type}`,
  ];
  for (const s of family.samples) {
    const labels =
      s.labels.length === 0 ? '' : `{${s.labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
    lines.push(`${s.name}${labels} ${formatValue(s.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderFamilies(families: Family[]): string {
  return families.map(renderFamily).join('');
}
