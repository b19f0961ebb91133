/**
 * Label spellings kept for the Python exporter's users, so Grafana dashboards built on it (grafana.com
 * dashboard 13941) keep matching: Python's `str(None)` is "None", `str(True)` is "True", and dates were
 * written as `YYYY-MM-DD`. Written once, here.
 */

export function pyStr(value: string | null | undefined): string {
  return value === null || value === undefined ? 'None' : value;
}

export function pyBool(value: boolean): string {
  return value ? 'True' : 'False';
}

/** `YYYY-MM-DD` of an ISO timestamp (UTC); a missing one means "now", as the Python exporter did. */
export function pyDate(iso: string | null, now: Date): string {
  const date = iso === null ? now : new Date(iso);
  return Number.isNaN(date.getTime()) ? now.toISOString().slice(0, 10) : date.toISOString().slice(0, 10);
}

/** The environment label of a project without environments. */
export const NO_ENVIRONMENT = 'None';
