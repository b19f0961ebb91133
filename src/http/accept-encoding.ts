/**
 * Whether a client accepts a gzip-encoded response, following RFC 9110 §12.5.3: `gzip` (or its alias
 * `x-gzip`) with a non-zero weight, or `*` with a non-zero weight when gzip is not named explicitly.
 * `gzip;q=0` is an explicit refusal and wins over `*`.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  let gzipWeight: number | undefined;
  let starWeight: number | undefined;
  for (const part of value.split(',')) {
    const [rawCoding = '', ...params] = part.split(';');
    const coding = rawCoding.trim().toLowerCase();
    if (coding === '') continue;
    const weight = parseWeight(params);
    if (coding === 'gzip' || coding === 'x-gzip') {
      gzipWeight = Math.max(gzipWeight ?? 0, weight);
    } else if (coding === '*') {
      starWeight = Math.max(starWeight ?? 0, weight);
    }
  }
  if (gzipWeight !== undefined) return gzipWeight > 0;
  return starWeight !== undefined && starWeight > 0;
}

/** The `q` parameter of one coding; malformed weights count as 0 (not acceptable) rather than guessing. */
function parseWeight(params: string[]): number {
  for (const param of params) {
    const [name = '', raw = ''] = param.split('=');
    if (name.trim().toLowerCase() !== 'q') continue;
    const text = raw.trim();
    if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(text)) return 0;
    return Number(text);
  }
  return 1;
}
