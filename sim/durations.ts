/** Sentry's relative durations (`90m`, `24h`, `14d`, `2w`, `30s`) in milliseconds. */
const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses `<integer><unit>`; returns undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!match) return undefined;
  const unit = UNIT_MS[match[2] ?? ''];
  if (unit === undefined) return undefined;
  return Number(match[1]) * unit;
}

/** Sentry's ISO format with milliseconds, e.g. `2024-05-01T12:00:00.000Z`. */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}

/** ISO without milliseconds, as stats_v2 prints interval starts: `2024-05-01T12:00:00Z`. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
