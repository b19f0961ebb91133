/** How a failed call to Sentry is told: the URL asked (never its query), the status, Sentry's detail, what to do. */
import { REQUIRED_SCOPE, type EndpointTemplate } from './endpoints.js';
import { SentryApiError } from './errors.js';
import type { HttpResponse } from './http.js';
import { errorDetail } from './parse.js';
import { QueueWaitAbandoned } from './queue.js';
import { headerValue } from './rate-limit.js';

/** The URL without its query, as errors name it: the real organization and project, not a template. */
export function where(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

export function forProject(project: string | undefined): string {
  return project === undefined ? '' : ` for project ${project}`;
}

/**
 * A non-2xx answer after the retries it deserved, with what the status usually means: the scope the endpoint
 * needs for 401 and 403 (and, for 401, what was done about a token file: `tokenNote`).
 */
export function httpError(
  endpoint: EndpointTemplate,
  url: URL,
  response: HttpResponse,
  project: string | undefined,
  attempts: number,
  tokenNote: string | undefined,
): SentryApiError {
  const { status } = response;
  const detail = errorDetail(response.body);
  let message = `Sentry ${where(url)} answered HTTP ${status}${forProject(project)}`;
  if (detail !== undefined) message += `: ${detail}`;
  if (status === 401 || status === 403) {
    const scope = REQUIRED_SCOPE[endpoint];
    message +=
      status === 401
        ? ` (the token is invalid or revoked, or lacks the ${scope} scope${tokenNote === undefined ? '' : `; ${tokenNote}`})`
        : ` (the token likely lacks the ${scope} scope, or access to this organization/project)`;
  } else if (status >= 300 && status < 400) {
    const location = headerValue(response.headers, 'location');
    const to = location === undefined ? undefined : redirectTarget(location, url);
    message += ` (a redirect${to === undefined ? '' : ` to ${to}`}: SENTRY_BASE_URL probably points at a web page or a sign-in proxy, not at the API, which answers under /api/0/ with JSON)`;
  } else if (status === 410) {
    message += ` (Sentry has removed this endpoint, or is browning it out before it does${deprecation(response)})`;
  } else if (status === 429) {
    message += ` (rate limited; gave up after ${attempts} attempts)`;
  } else if (attempts > 1) {
    message += ` (after ${attempts} attempts)`;
  }
  return new SentryApiError(message, { kind: 'http', endpoint, status, detail, project, attempts });
}

/**
 * What Sentry's deprecation headers say (src/sentry/api/helpers/deprecation.py): `; deprecated since <date>,
 * replaced by <endpoint>`, or nothing when it sent none.
 */
export function deprecation(response: Pick<HttpResponse, 'headers'>): string {
  const date = headerValue(response.headers, 'x-sentry-deprecation-date');
  const replacement = headerValue(response.headers, 'x-sentry-replacement-endpoint');
  if (date === undefined && replacement === undefined) return '';
  return `; deprecated${date === undefined ? '' : ` since ${date}`}${replacement === undefined ? '' : `, replaced by ${replacement}`}`;
}

/** Where a redirect points, without its query (it may carry a session or a `next` URL). */
function redirectTarget(location: string, from: URL): string | undefined {
  try {
    const to = new URL(location, from);
    return `${to.origin}${to.pathname}`;
  } catch {
    return undefined;
  }
}

/** A call given up because its signal fired (the run's deadline, or shutdown), and what it was waiting for. */
export function abandoned(
  endpoint: EndpointTemplate,
  url: URL,
  project: string | undefined,
  attempts: number,
  cause: unknown,
): SentryApiError {
  // What it waited for, when that was the queue: Sentry's rate-limit headers, a request slot, the rate.
  const waiting = cause instanceof QueueWaitAbandoned ? ` while ${cause.waitingFor}` : '';
  return new SentryApiError(`Sentry ${where(url)} call abandoned${forProject(project)}${waiting}`, {
    kind: 'aborted',
    endpoint,
    project,
    attempts,
    cause,
  });
}
