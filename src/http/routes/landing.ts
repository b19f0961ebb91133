import type { FastifyInstance, onRequestHookHandler } from 'fastify';

export interface LandingPageInfo {
  version: string;
  /** Seconds between collection cycles. */
  pollInterval: number;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page served on `/`. It is built only from the version and the poll interval (never from the
 * configuration object) so it cannot leak the Sentry token or credentials.
 */
function renderLandingPage(info: LandingPageInfo): string {
  const version = escapeHtml(info.version);
  const interval = escapeHtml(String(info.pollInterval));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sentry Prometheus Exporter</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;line-height:1.5}code{background:#eee;padding:0 .2em}</style>
</head>
<body>
<h1>Sentry Prometheus Exporter</h1>
<p>Version <code>${version}</code>. Sentry is polled in the background every ${interval}&nbsp;s; scrapes are served from the last completed poll.</p>
<ul>
<li><a href="metrics">/metrics</a> &mdash; metrics in the Prometheus text format</li>
<li><a href="healthz">/healthz</a> &mdash; readiness, and the state of every collector</li>
<li><a href="livez">/livez</a> &mdash; liveness</li>
</ul>
</body>
</html>
`;
}

/** `/`: the landing page, behind the same credentials as `/metrics`. */
export async function landingRoutes(
  app: FastifyInstance,
  opts: LandingPageInfo & { protect: onRequestHookHandler[] },
): Promise<void> {
  const page = renderLandingPage(opts);
  app.get('/', { onRequest: opts.protect }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page),
  );
}
