import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, test } from 'node:test';
import type { RequestObservation } from '../../src/sentry/api.js';
import { ENDPOINTS } from '../../src/sentry/endpoints.js';
import { SentryApiError } from '../../src/sentry/errors.js';
import {
  issueJson,
  makeClient,
  rateLimitHeaders,
  rejection,
  sendJson,
  startServer,
  TOKEN,
  type TestServer,
  listIssues,
} from './helpers.js';

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** Answers every endpoint with a minimal valid body. */
async function validServer(extraHeaders: Record<string, string> = {}): Promise<TestServer> {
  const server = await startServer((_req, res, hit) => {
    const p = hit.path;
    let body: unknown = [];
    if (p.endsWith('/stats_v2/')) body = { start: 's', end: 'e', intervals: [], groups: [] };
    else if (p.endsWith('/sessions/')) body = { start: 's', end: 'e', intervals: [], groups: [], query: '' };
    else if (p.endsWith('/current-release/')) body = { currentRelease: null };
    else if (p.endsWith('/issues/')) body = [issueJson(1)];
    sendJson(res, 200, body, extraHeaders);
  });
  servers.push(server);
  return server;
}

test('each method sends the documented path and query, with encoded segments and values', async () => {
  const server = await validServer();
  const { client } = makeClient(server.baseUrl, { org: 'my org' });
  try {
    await client.listProjects();
    await client.listProjectEnvironments('web/app');
    await listIssues(client, {
      query: 'is:unresolved firstSeen:-14d',
      statsPeriod: '14d',
      sort: 'date',
      projectIds: ['11', '12'],
      environment: 'prod & eu',
    });
    await listIssues(client, { query: 'is:unresolved', projectIds: [] });
    await client.listProjectKeys('web');
    await client.listOrganizationProjectKeys();
    await client.getEventStats({
      start: new Date('2024-05-01T00:00:00Z'),
      end: new Date('2024-05-31T23:59:59Z'),
      categories: ['error'],
      groupBy: ['project', 'outcome'],
    });
    await client.getCurrentRelease('4711', 'prod');
    await client.getCurrentRelease('4712', undefined);
    await client.getSessions(
      {
        fields: ['sum(session)', 'crash_free_rate(user)'],
        groupBy: ['project', 'environment', 'session.status'],
        projectIds: ['11', '12'],
        start: new Date('2024-05-01T00:00:00Z'),
        end: new Date('2024-05-17T13:27:28Z'),
        interval: '1d',
        query: 'release:["a b@1.0"]',
        orderBy: '-sum(session)',
        perPage: 5,
      },
      { cursor: '0:5:0' },
    );
    await client.getSessions({
      fields: ['sum(session)'],
      groupBy: [],
      start: new Date('2024-05-17T00:00:00Z'),
      end: new Date('2024-05-17T13:27:28Z'),
      interval: '1h',
    });
    await client.listSessionGroups({
      fields: ['sum(session)'],
      groupBy: ['release'],
      projectIds: ['11'],
      start: new Date('2024-05-16T13:00:00Z'),
      end: new Date('2024-05-17T13:27:28Z'),
      interval: '1h',
      orderBy: '-sum(session)',
      perPage: 399,
    });
    await client.listMonitors();
    const seen = server.hits.map((h) => [h.path, [...h.query]]);
    assert.deepEqual(seen, [
      ['/api/0/organizations/my%20org/projects/', [['per_page', '100']]],
      ['/api/0/projects/my%20org/web%2Fapp/environments/', []],
      [
        '/api/0/organizations/my%20org/issues/',
        [
          ['limit', '100'],
          ['query', 'is:unresolved firstSeen:-14d'],
          ['statsPeriod', '14d'],
          ['sort', 'date'],
          ['project', '11'],
          ['project', '12'],
          ['environment', 'prod & eu'],
        ],
      ],
      [
        '/api/0/organizations/my%20org/issues/',
        [
          ['limit', '100'],
          ['query', 'is:unresolved'],
          ['project', '-1'],
        ],
      ],
      ['/api/0/projects/my%20org/web/keys/', [['per_page', '100']]],
      [
        '/api/0/organizations/my%20org/project-keys/',
        [
          ['per_page', '100'],
          ['project', '-1'],
        ],
      ],
      [
        '/api/0/organizations/my%20org/stats_v2/',
        [
          ['field', 'sum(quantity)'],
          ['groupBy', 'project'],
          ['groupBy', 'outcome'],
          ['category', 'error'],
          ['start', '2024-05-01T00:00:00.000Z'],
          ['end', '2024-05-31T23:59:59.000Z'],
          ['interval', '1d'],
        ],
      ],
      ['/api/0/organizations/my%20org/issues/4711/current-release/', [['environment', 'prod']]],
      ['/api/0/organizations/my%20org/issues/4712/current-release/', []],
      [
        '/api/0/organizations/my%20org/sessions/',
        [
          ['field', 'sum(session)'],
          ['field', 'crash_free_rate(user)'],
          ['groupBy', 'project'],
          ['groupBy', 'environment'],
          ['groupBy', 'session.status'],
          ['project', '11'],
          ['project', '12'],
          ['start', '2024-05-01T00:00:00.000Z'],
          ['end', '2024-05-17T13:27:28.000Z'],
          ['interval', '1d'],
          ['query', 'release:["a b@1.0"]'],
          ['orderBy', '-sum(session)'],
          ['per_page', '5'],
          ['cursor', '0:5:0'],
        ],
      ],
      [
        '/api/0/organizations/my%20org/sessions/',
        [
          ['field', 'sum(session)'],
          ['project', '-1'],
          ['start', '2024-05-17T00:00:00.000Z'],
          ['end', '2024-05-17T13:27:28.000Z'],
          ['interval', '1h'],
        ],
      ],
      [
        '/api/0/organizations/my%20org/sessions/',
        [
          ['field', 'sum(session)'],
          ['groupBy', 'release'],
          ['project', '11'],
          ['start', '2024-05-16T13:00:00.000Z'],
          ['end', '2024-05-17T13:27:28.000Z'],
          ['interval', '1h'],
          ['orderBy', '-sum(session)'],
          ['per_page', '399'],
        ],
      ],
      [
        '/api/0/organizations/my%20org/monitors/',
        [
          ['per_page', '100'],
          ['project', '-1'],
          ['sort', 'name'],
        ],
      ],
    ]);
  } finally {
    await client.close();
  }
});

test('requests carry the bearer token, Accept JSON and the exporter User-Agent, over kept-alive connections', async () => {
  const server = await validServer();
  const { client } = makeClient(server.baseUrl, { concurrency: 2 });
  try {
    for (let i = 0; i < 10; i++) await client.listProjectKeys(`p${i}`);
    for (const h of server.hits) {
      assert.equal(h.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(h.headers.accept, 'application/json');
      assert.match(h.headers['user-agent'] ?? '', /^sentry-prometheus-exporter\/\d+\.\d+\.\d+/);
    }
    const connections = new Set(server.hits.map((h) => h.remotePort)).size;
    assert.ok(connections <= 2, `${connections} connections for 10 requests at concurrency 2`);
  } finally {
    await client.close();
  }
  const { client: custom } = makeClient(server.baseUrl, { userAgent: 'custom/1' });
  try {
    await custom.listProjectKeys('x');
    assert.equal(server.hits.at(-1)?.headers['user-agent'], 'custom/1');
  } finally {
    await custom.close();
  }
});

test('self-hosted Sentry (no rate-limit headers): everything works, observations have no Remaining', async () => {
  const server = await validServer();
  const observations: RequestObservation[] = [];
  const { client } = makeClient(server.baseUrl, { rate: 20, onRequest: (o) => observations.push(o) });
  try {
    const results = await Promise.all(Array.from({ length: 30 }, () => listIssues(client, { query: '' })));
    assert.equal(results.length, 30);
    assert.equal(observations.length, 30);
    for (const o of observations) {
      assert.equal(o.endpoint, ENDPOINTS.issues);
      assert.equal(o.status, 200);
      assert.equal(o.rateLimitRemaining, undefined);
      assert.ok(o.durationMs >= 0, `the duration is not negative: ${o.durationMs}`);
    }
    assert.deepEqual(client.rateLimits(), []);
    // 30 requests at 20/s: the configured rate alone paces them (at least one second in all).
    const span = server.hits.at(-1)!.at - server.hits[0]!.at;
    assert.ok(span >= 900, `30 requests took ${span} ms at rate 20`);
  } finally {
    await client.close();
  }
});

test('rate-limit state is exposed per endpoint as Sentry reported it', async () => {
  const server = await validServer(rateLimitHeaders(40, 37, Math.floor(Date.now() / 1000) + 1));
  const { client } = makeClient(server.baseUrl);
  try {
    await client.listProjects();
    assert.deepEqual(
      client.rateLimits().map((r) => [r.endpoint, r.limit, r.remaining]),
      [[ENDPOINTS.projects, 40, 37]],
    );
  } finally {
    await client.close();
  }
});

test('the token never appears in logs (trace level) or error messages, whatever happens', async () => {
  let n = 0;
  const server = await startServer((req, res, hit) => {
    n++;
    if (hit.path.includes('/issues/')) {
      // A hostile server echoing the Authorization header back in its error detail.
      sendJson(res, 401, { detail: `Invalid token header ${req.headers.authorization ?? ''}` });
    } else if (hit.path.includes('/keys/')) {
      if (n % 2 === 0) req.socket.destroy();
      else
        sendJson(
          res,
          429,
          { detail: 'too frequently' },
          rateLimitHeaders(1, 0, Math.floor(Date.now() / 1000)),
        );
    } else if (hit.path.includes('/environments/')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<html>${TOKEN}</html>`);
    } else {
      sendJson(res, 500, { detail: `boom ${TOKEN}` });
    }
  });
  servers.push(server);
  const { client, log } = makeClient(server.baseUrl);
  const errors: unknown[] = [];
  try {
    errors.push(
      await rejection(listIssues(client, { query: '' })),
      await rejection(client.listProjectKeys('web')),
      await rejection(client.listProjectEnvironments('web')),
      await rejection(client.listProjects()),
    );
  } finally {
    await client.close();
  }
  assert.ok(log.lines().length >= 8, 'trace logging was on');
  assert.ok(!log.text().includes(TOKEN), 'token in log output');
  assert.ok(!/authorization|bearer/i.test(log.text()), 'authorization header in log output');
  for (const err of errors) {
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.ok(!err.message.includes(TOKEN), err.message);
    assert.ok(!(err.detail ?? '').includes(TOKEN), err.detail);
    assert.ok(
      !JSON.stringify(err.toLog()).includes(TOKEN),
      "the error's log object does not contain the token",
    );
  }
  assert.match((errors[0] as SentryApiError).message, /\[redacted\]/);
});

test('constructor rejects a base URL without trailing slash', () => {
  assert.throws(() => makeClient('http://127.0.0.1:1/api/0'), /must end with a slash/);
});

test('many calls under one caller signal add no listener to it; aborting it abandons them all', async () => {
  const server = await validServer();
  const { client } = makeClient(server.baseUrl, { rate: 200, concurrency: 4 });
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  const deadline = new AbortController();
  try {
    const done = await Promise.all(
      Array.from({ length: 60 }, (_, i) => client.listProjectKeys(`p${i}`, { signal: deadline.signal })),
    );
    assert.equal(done.length, 60);
    assert.equal(getEventListeners(deadline.signal, 'abort').length, 0);

    const pending = Array.from({ length: 60 }, (_, i) =>
      rejection(client.listProjectKeys(`q${i}`, { signal: deadline.signal })),
    );
    deadline.abort(new Error('deadline'));
    const errors = await Promise.all(pending);
    for (const err of errors) {
      assert.ok(err instanceof SentryApiError && err.kind === 'aborted', String(err));
    }
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
      [],
    );
  } finally {
    process.off('warning', onWarning);
    await client.close();
  }
});

test('close() abandons calls in progress and every later call', async () => {
  const server = await startServer(() => undefined); // never answers
  servers.push(server);
  const { client } = makeClient(server.baseUrl);
  const pending = rejection(client.listProjects());
  while (server.hits.length === 0) await new Promise((r) => setImmediate(r));
  await client.close();
  const err = await pending;
  assert.ok(err instanceof SentryApiError && err.kind === 'aborted', String(err));
  const later = await rejection(client.listProjects());
  assert.ok(later instanceof SentryApiError && later.kind === 'aborted', String(later));
});

test('the first call explains a wrong organization slug or base URL, with the real URL, not a template', async () => {
  // Sentry answers an unknown organization with 404 {"detail": "The requested resource does not exist"}
  // (src/sentry/api/bases/organization.py, OrganizationEndpoint.convert_args); its web UI answers HTML on the
  // same paths without /api/0/.
  // The API's index answers without a token (src/sentry/api/endpoints/index.py: permission_classes = ()).
  const server = await startServer((_req, res, hit) => {
    if (hit.path === '/api/0/') sendJson(res, 200, { version: '0', auth: null, user: null });
    else if (hit.path.startsWith('/api/0/organizations/acme/')) sendJson(res, 200, []);
    else if (hit.path.startsWith('/api/0/'))
      sendJson(res, 404, { detail: 'The requested resource does not exist' });
    else if (hit.path.startsWith('/organizations/')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>Sentry</body></html>');
    } else if (hit.path.startsWith('/login-first/')) {
      // A sign-in proxy (or Sentry's web UI for a visitor): a redirect to its login page.
      res.writeHead(302, { location: '/auth/login/?next=%2Forganizations%2Facme%2F' });
      res.end();
    } else {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html>not found</html>');
    }
  });
  servers.push(server);
  const root = server.baseUrl.replace(/api\/0\/$/, '');
  const cases: Array<[string, string, RegExp]> = [
    [
      server.baseUrl,
      'acme-typo',
      /\/api\/0\/organizations\/acme-typo\/projects\/ answered HTTP 404: The requested resource does not exist; Sentry does not know the organization "acme-typo" .*SENTRY_EXPORTER_ORG$/,
    ],
    [
      root,
      'acme',
      new RegExp(
        `/organizations/acme/projects/: expected JSON, got .* text/html; check SENTRY_BASE_URL first: Sentry's API answers at ${server.baseUrl}, not at ${root}; set SENTRY_BASE_URL=${server.baseUrl}$`,
      ),
    ],
    [
      `${root}sentry/`,
      'acme',
      new RegExp(
        `/sentry/organizations/acme/projects/ answered HTTP 404; check SENTRY_BASE_URL first: Sentry's API answers at ${server.baseUrl}, not at ${root}sentry/; set SENTRY_BASE_URL=${server.baseUrl}$`,
      ),
    ],
    [
      `${root}login-first/`,
      'acme',
      new RegExp(
        `/login-first/organizations/acme/projects/ answered HTTP 302 \\(a redirect to ${root}auth/login/: SENTRY_BASE_URL probably points at a web page or a sign-in proxy, not at the API, which answers under /api/0/ with JSON\\); check SENTRY_BASE_URL first: Sentry's API answers at ${server.baseUrl}`,
      ),
    ],
  ];
  for (const [baseUrl, org, re] of cases) {
    const { client } = makeClient(baseUrl, { org });
    try {
      const err = await rejection(client.listProjects());
      assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
      assert.equal(err.endpoint, ENDPOINTS.projects, 'the template stays the metric label');
      assert.doesNotMatch(err.message, /\{org\}/);
      assert.match(err.message, re);
    } finally {
      await client.close();
    }
  }
  // A good organization and base URL: no error, nothing to explain.
  const { client } = makeClient(server.baseUrl);
  try {
    assert.deepEqual(await client.listProjects(), []);
  } finally {
    await client.close();
  }
});

test('optional query parameters are sent only when given: groupStatsPeriod, stats_v2 categories and projects', async () => {
  const server = await validServer();
  const { client } = makeClient(server.baseUrl);
  try {
    await listIssues(client, { query: 'is:unresolved', groupStatsPeriod: '' });
    await listIssues(client, { query: 'is:unresolved' });
    const window = { start: new Date('2024-05-01T00:00:00Z'), end: new Date('2024-05-02T00:00:00Z') };
    await client.getEventStats({ ...window, groupBy: ['project'] });
    await client.getEventStats({ ...window, groupBy: ['project'], projectIds: ['11', '12'] });
  } finally {
    await client.close();
  }
  const issues = server.hitsOn('/organizations/acme/issues/');
  assert.deepEqual(
    issues.map((h) => h.query.getAll('groupStatsPeriod')),
    [[''], []],
  );
  const stats = server.hitsOn('/organizations/acme/stats_v2/');
  assert.deepEqual(
    stats.map((h) => [h.query.getAll('category'), h.query.getAll('project')]),
    [
      [[], []],
      [[], ['11', '12']],
    ],
  );
});

test('the first call explains a wrong base URL only for 404 and non-JSON answers, and checks its /api/0/ ending', async () => {
  const server = await startServer((_req, res, hit) => {
    if (hit.path.startsWith('/api/0/organizations/forbidden/'))
      sendJson(res, 403, { detail: 'You do not have permission to perform this action.' });
    else if (hit.path.startsWith('/api/0/organizations/shape/')) sendJson(res, 200, { detail: 'x' });
    else sendJson(res, 404, { detail: 'The requested resource does not exist' });
  });
  servers.push(server);
  const cases: Array<[string, string, string]> = [
    [
      server.baseUrl,
      'forbidden',
      '/api/0/organizations/forbidden/projects/ answered HTTP 403: You do not have permission to perform this action. (the token likely lacks the org:read scope, or access to this organization/project)',
    ],
    [
      server.baseUrl,
      'shape',
      '/api/0/organizations/shape/projects/: the body should be an array, got an object',
    ],
    [
      `${server.baseUrl}x/`,
      'acme',
      `/api/0/x/organizations/acme/projects/ answered HTTP 404: The requested resource does not exist; check SENTRY_BASE_URL first: ${server.baseUrl}x/ does not end in /api/0/, as Sentry's API does (e.g. ${server.baseUrl}x/api/0/); Sentry does not know the organization "acme" or the token cannot see it: check SENTRY_EXPORTER_ORG`,
    ],
  ];
  for (const [baseUrl, org, tail] of cases) {
    const { client } = makeClient(baseUrl, { org });
    try {
      const err = await rejection(client.listProjects());
      assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
      assert.ok(err.message.endsWith(tail), err.message);
    } finally {
      await client.close();
    }
  }
});

test('an empty organization slug is refused when the client is made', () => {
  assert.throws(() => makeClient('http://127.0.0.1:9/api/0/', { org: '' }), {
    message: 'Sentry organization slug is empty',
  });
});
