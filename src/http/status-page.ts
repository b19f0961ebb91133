/**
 * The page an operator opens first (`/`): is it working, and if not, why. It is rendered from what the
 * exporter already holds (the collection's status, handed over each second), never from a call to Sentry,
 * and from no secret: the base URL is shown without credentials, errors as the client wrote them (the token
 * is redacted there). Plain HTML with a small stylesheet: it reads without JavaScript.
 */
import type { CollectionStatus } from '../pipeline/collection.js';
import type { CollectorReport } from '../pipeline/scheduler.js';

export interface StatusPageInfo {
  version: string;
  org: string;
  /** SENTRY_BASE_URL, shown without userinfo. */
  sentryUrl: string;
  /** When the exporter started (ms since the epoch). */
  startedAt: number;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `0.4 s`, `42 s`, `7 min 3 s`, `2 h 5 min`, `3 d 4 h`. */
export function humanDuration(seconds: number): string {
  if (seconds < 9.95) return `${Math.max(0, Math.round(seconds * 10) / 10)} s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 === 0 ? '' : ` ${s % 60} s`}`;
  if (s < 86_400)
    return `${Math.floor(s / 3600)} h${s % 3600 < 60 ? '' : ` ${Math.floor((s % 3600) / 60)} min`}`;
  return `${Math.floor(s / 86_400)} d${s % 86_400 < 3600 ? '' : ` ${Math.floor((s % 86_400) / 3600)} h`}`;
}

/** The base URL without user and password (a proxy's credentials must not be shown). */
export function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return url;
  }
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;line-height:1.4;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.92em}th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;white-space:nowrap}code{background:#f2f2f2;padding:0 .2em}
.ok{color:#17662b;font-weight:600}.failing{color:#b00020;font-weight:600}.waiting,.disabled{color:#666}
.verdict{padding:.6em .8em;border-radius:4px}.ready{background:#e6f4ea}.unready{background:#fde7e9}
.err{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-word}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{color:#555}`;

function collectorRow(r: CollectorReport): string {
  const state =
    r.running !== undefined
      ? `<span class="${r.state === 'failing' ? 'failing' : 'waiting'}">running ${humanDuration(r.running.forSeconds)}</span>` +
        ` (${r.running.requests} requests${r.running.progress === '' ? '' : `, ${escapeHtml(r.running.progress)}`})` +
        (r.state === 'not yet run' ? '' : `; last run ${r.state}`)
      : `<span class="${r.state === 'not yet run' ? 'waiting' : r.state}">${r.state}</span>`;
  const error =
    r.lastError === undefined
      ? ''
      : [
          r.lastError.status === undefined ? '' : `<b>HTTP ${r.lastError.status}</b>`,
          r.lastError.endpoint === undefined ? '' : `<code>${escapeHtml(r.lastError.endpoint)}</code>`,
          r.lastError.detail === undefined ? '' : `Sentry: “${escapeHtml(r.lastError.detail)}”`,
          `<div class="err">${escapeHtml(r.lastError.message)}</div>`,
        ]
          .filter((x) => x !== '')
          .join(' ');
  return `<tr><td><code>${escapeHtml(r.name)}</code></td><td>${state}</td>
<td class="n">${r.lastSuccessAgeSeconds === undefined ? '—' : `${humanDuration(r.lastSuccessAgeSeconds)} ago`}</td>
<td class="n">${r.lastDurationSeconds === undefined ? '—' : humanDuration(r.lastDurationSeconds)}</td>
<td class="n">${r.requestsLastRun ?? '—'}</td>
<td class="n">${r.nextRunInSeconds === undefined ? '—' : `in ${humanDuration(r.nextRunInSeconds)}`}</td>
<td class="n">every ${humanDuration(r.interval)}</td><td>${error}</td></tr>`;
}

/** The status page; `refresh` (seconds) adds an automatic reload. */
export function renderStatusPage(
  info: StatusPageInfo,
  status: CollectionStatus,
  now: number,
  refresh?: number,
): string {
  const { readiness, requests } = status;
  const rows = status.collectors.map(collectorRow);
  for (const name of status.disabled) {
    rows.push(
      `<tr><td><code>${escapeHtml(name)}</code></td><td><span class="disabled">disabled</span></td><td colspan="6"></td></tr>`,
    );
  }
  const series = Object.entries(status.series).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const total = series.reduce((sum, [, n]) => sum + n, 0);
  const limits = requests.rateLimits
    .map(
      (l) =>
        `<tr><td><code>${escapeHtml(l.endpoint)}</code></td><td class="n">${l.limit ?? '—'}</td><td class="n">${l.remaining ?? '—'}</td><td class="n">${l.reset === undefined ? '—' : `${humanDuration(Math.max(0, l.reset - now / 1000))}`}</td><td class="n">${l.inflight}</td></tr>`,
    )
    .join('\n');
  const verdict = readiness.ready
    ? '<p class="verdict ready">Ready: scrapes are served from data collected within the readiness limit.</p>'
    : `<p class="verdict unready">Not ready: ${escapeHtml(readiness.reason ?? 'not ready')}</p>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh === undefined ? '' : `<meta http-equiv="refresh" content="${refresh}">`}
<title>Sentry Prometheus Exporter: ${escapeHtml(info.org)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Sentry Prometheus Exporter</h1>
<dl>
<dt>Organization</dt><dd><code>${escapeHtml(info.org)}</code></dd>
<dt>Sentry</dt><dd><code>${escapeHtml(withoutCredentials(info.sentryUrl))}</code></dd>
<dt>Version</dt><dd><code>${escapeHtml(info.version)}</code></dd>
<dt>Up for</dt><dd>${humanDuration((now - info.startedAt) / 1000)}</dd>
</dl>
${verdict}
<p><a href="metrics">/metrics</a> · <a href="healthz">/healthz</a> · <a href="livez">/livez</a> · ${
    refresh === undefined
      ? '<a href="?refresh=10">reload every 10 s</a>'
      : `reloads every ${refresh} s (<a href="./">stop</a>)`
  }</p>
<h2>Collectors</h2>
<table>
<tr><th>Collector</th><th>State</th><th>Last success</th><th>Last run took</th><th>Requests (last run)</th><th>Next run</th><th>Interval</th><th>Last error</th></tr>
${rows.join('\n')}
</table>
<h2>Requests to Sentry</h2>
<p>At most ${requests.rate} per second, ${requests.concurrency} at once. Since the start: ${requests.total} requests, ${requests.rateLimited} answered 429 (rate limited), ${requests.retries} retried.</p>
${
  limits === ''
    ? '<p>Sentry has sent no <code>X-Sentry-Rate-Limit-*</code> headers (self-hosted Sentry sends none).</p>'
    : `<table><tr><th>Endpoint</th><th>Limit per window</th><th>Remaining</th><th>Window resets in</th><th>In flight</th></tr>\n${limits}\n</table>`
}
<h2>Series</h2>
<p>${total} series in the exposition from the collectors (see <code>sentry_exporter_series</code>).</p>
<table><tr><th>Family</th><th>Series</th></tr>
${series.map(([name, n]) => `<tr><td><code>${escapeHtml(name)}</code></td><td class="n">${n}</td></tr>`).join('\n')}
</table>
</body>
</html>
`;
}
