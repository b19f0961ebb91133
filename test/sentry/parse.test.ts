import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { SentryApiError } from '../../src/sentry/errors.js';
import {
  errorDetail,
  parseCurrentRelease,
  parseEnvironments,
  parseIssues,
  parseOrganizationProjectKeys,
  parseProjectKeys,
  parseProjects,
  parseStatsV2,
} from '../../src/sentry/parse.js';
import { issueJson, makeClient, rejection, sendJson, startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const ctx = {
  endpoint: '/organizations/{org}/issues/',
  url: 'https://sentry.example/api/0/organizations/acme/issues/',
};

function parseError(fn: () => unknown): SentryApiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SentryApiError, String(err));
    assert.equal(err.kind, 'parse');
    return err;
  }
  assert.fail('expected a parse error');
}

test('issues: count string becomes a number, project fields are lifted, optional fields default', () => {
  const raw = { ...issueJson(7, '42', 'api'), count: '1234' };
  delete (raw as Record<string, unknown>)['isUnhandled'];
  assert.deepEqual(parseIssues(ctx, [raw]), [
    {
      id: '7',
      projectSlug: 'api',
      logger: null,
      level: 'error',
      status: 'unresolved',
      platform: 'node',
      isUnhandled: false,
      count: 1234,
      firstSeen: '2024-05-01T10:00:00Z',
      lastSeen: '2024-05-02T10:00:00Z',
    },
  ]);
});

test('issues: wrong shapes are parse errors naming the endpoint and field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ detail: 'x' }, /the body should be an array/],
    [
      [issueJson(1), { ...issueJson(2), count: '12.5' }],
      /\[1\]\.count should be a non-negative integer string, got "12\.5"/,
    ],
    [[{ ...issueJson(1), count: 'many' }], /\[0\]\.count/],
    [[{ ...issueJson(1), count: { n: 1 } }], /\[0\]\.count .*an object/],
    [[{ ...issueJson(1), id: undefined }], /\[0\]\.id should be an id/],
    [[{ ...issueJson(1), project: null }], /\[0\]\.project should be an object/],
    [[{ ...issueJson(1), project: { id: '1' } }], /\[0\]\.project\.slug should be a string/],
    [[{ ...issueJson(1), isUnhandled: 'yes' }], /\[0\]\.isUnhandled should be a boolean/],
    [[{ ...issueJson(1), lastSeen: 17 }], /\[0\]\.lastSeen should be a string or null/],
    [[42], /\[0\] should be an object/],
  ];
  for (const [json, re] of cases) {
    const err = parseError(() => parseIssues(ctx, json));
    assert.equal(err.endpoint, '/organizations/{org}/issues/');
    assert.match(err.message, /https:\/\/sentry\.example\/api\/0\/organizations\/acme\/issues\//);
    assert.match(err.message, re);
  }
});

test('projects: only id, slug and environments are read; environments may be absent', () => {
  const c = { endpoint: '/organizations/{org}/projects/', project: undefined };
  assert.deepEqual(
    parseProjects(c, [
      { id: '1', slug: 'web', name: 'Web', platform: 'javascript', environments: ['production'], extra: 1 },
      // name and platform are not used: their absence or odd types fail nothing
      { id: '2', slug: 'api', platform: 7 },
    ]),
    [
      { id: '1', slug: 'web', environments: ['production'] },
      { id: '2', slug: 'api', environments: undefined },
    ],
  );
  assert.match(
    parseError(() => parseProjects(c, [{ id: '1', slug: 'web', name: 'Web', environments: [1] }])).message,
    /\[0\]\.environments\[0\] should be a string/,
  );
});

test('environments and keys: only the fields the exporter uses are read', () => {
  const e = { endpoint: '/projects/{org}/{project}/environments/', project: 'web' };
  assert.deepEqual(parseEnvironments(e, [{ id: '5', name: 'prod', isHidden: 'no' }]), [{ name: 'prod' }]);
  assert.equal(parseError(() => parseEnvironments(e, [{ id: '5' }])).project, 'web');

  // A project's own keys: the project is known, so a key without projectId (or with any other unused
  // field missing) is fine.
  const k = { endpoint: '/projects/{org}/{project}/keys/' };
  assert.deepEqual(
    parseProjectKeys(k, [
      { id: 'abc', isActive: true, rateLimit: { window: 60, count: 1000 }, dateCreated: null },
      { isActive: false, rateLimit: null },
    ]),
    [
      { isActive: true, rateLimit: { window: 60, count: 1000 } },
      { isActive: false, rateLimit: null },
    ],
  );
  assert.match(
    parseError(() =>
      parseProjectKeys(k, [{ id: 'a', projectId: 1, isActive: true, rateLimit: { window: '60', count: 1 } }]),
    ).message,
    /\[0\]\.rateLimit\.window should be an integer/,
  );
  // The organization's keys must say which project they belong to; Sentry sends an integer
  // (src/sentry/api/serializers/models/project_key.py: "projectId": obj.project_id).
  const o = { endpoint: '/organizations/{org}/project-keys/' };
  assert.deepEqual(parseOrganizationProjectKeys(o, [{ projectId: 12, isActive: true, rateLimit: null }]), [
    { projectId: '12', isActive: true, rateLimit: null },
  ]);
  assert.match(
    parseError(() => parseOrganizationProjectKeys(o, [{ isActive: true, rateLimit: null }])).message,
    /\[0\]\.projectId should be an id/,
  );
});

test('stats_v2 grouped by project: sentry.io sends no intervals and no series, older releases did; both parse', () => {
  // src/sentry/api/endpoints/organization_stats_v2.py: `result_timeseries = None if "project_id" in
  // query.query_groupby`; src/sentry/snuba/outcomes.py massage_outcomes_result: `del result["intervals"]`.
  const s = { endpoint: '/organizations/{org}/stats_v2/' };
  const group = { by: { project: 1, outcome: 'accepted' }, totals: { 'sum(quantity)': 99 } };
  const sentryIo = { start: '2024-05-01T00:00:00Z', end: '2024-05-02T00:00:00Z', groups: [group] };
  const olderSelfHosted = {
    ...sentryIo,
    intervals: ['2024-05-01T00:00:00Z'],
    groups: [{ ...group, series: { 'sum(quantity)': [99] } }],
  };
  const expected = { groups: [{ by: { project: 1, outcome: 'accepted' }, totals: { 'sum(quantity)': 99 } }] };
  assert.deepEqual(parseStatsV2(s, sentryIo), expected);
  assert.deepEqual(parseStatsV2(s, olderSelfHosted), expected);
  assert.deepEqual(parseStatsV2(s, { groups: [] }), { groups: [] });
  assert.match(
    parseError(() => parseStatsV2(s, { groups: [{ by: {}, totals: { 'sum(quantity)': '99' } }] })).message,
    /groups\[0\]\.totals\.sum\(quantity\) should be a number/,
  );
  assert.match(parseError(() => parseStatsV2(s, { groups: 'none' })).message, /groups should be an array/);
});

test('current release and error details', () => {
  const r = { endpoint: '/organizations/{org}/issues/{issue_id}/current-release/' };
  assert.equal(parseCurrentRelease(r, { currentRelease: null }), null);
  assert.equal(parseCurrentRelease(r, { currentRelease: { release: { version: 'v1' } } }), 'v1');
  assert.match(parseError(() => parseCurrentRelease(r, {})).message, /currentRelease should be present/);
  assert.match(
    parseError(() => parseCurrentRelease(r, { currentRelease: { release: {} } })).message,
    /currentRelease\.release\.version should be a string/,
  );

  assert.equal(errorDetail('{"detail":"nope"}'), 'nope');
  assert.equal(errorDetail('<html>'), undefined);
});

test('over HTTP: malformed JSON, an HTML page with 200, an empty body and wrong types are parse errors', async () => {
  const server = await startServer((_req, res, hit) => {
    if (hit.path.includes('/projects/acme/truncated/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[{"id": "1", "name": "prod"');
    } else if (hit.path.includes('/project-keys/')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>Maintenance</body></html>');
    } else if (hit.path.includes('/current-release/')) {
      res.writeHead(200);
      res.end();
    } else {
      sendJson(res, 200, [
        { ...issueJson(1), count: 12 },
        { ...issueJson(2), count: '1e3' },
      ]);
    }
  });
  servers.push(server);
  const { client } = makeClient(server.baseUrl);
  try {
    const cases: Array<[Promise<unknown>, string, RegExp]> = [
      [
        rejection(client.listProjectEnvironments('truncated')),
        '/projects/{org}/{project}/environments/',
        /\/api\/0\/projects\/acme\/truncated\/environments\/: expected JSON, got 27 bytes of application\/json/,
      ],
      [
        rejection(client.listOrganizationProjectKeys()),
        '/organizations/{org}/project-keys/',
        /\/api\/0\/organizations\/acme\/project-keys\/: .*text\/html/,
      ],
      [
        rejection(client.getCurrentRelease('9', undefined)),
        '/organizations/{org}/issues/{issue_id}/current-release/',
        /\/api\/0\/organizations\/acme\/issues\/9\/current-release\/: .*an empty body/,
      ],
      [
        rejection(client.listIssues({ query: '' })),
        '/organizations/{org}/issues/',
        /\/api\/0\/organizations\/acme\/issues\/: \[1\]\.count/,
      ],
    ];
    for (const [p, endpoint, re] of cases) {
      const err = await p;
      assert.ok(err instanceof SentryApiError);
      assert.equal(err.kind, 'parse');
      // the template for metrics and logs; the real URL (organization, project, issue) in the message
      assert.equal(err.endpoint, endpoint);
      assert.ok(err.message.includes(server.baseUrl.replace(/\/api\/0\/$/, '')), err.message);
      assert.match(err.message, re);
    }
    assert.equal(
      ((await rejection(client.listProjectEnvironments('truncated'))) as SentryApiError).project,
      'truncated',
    );
    // A parse error is not retried: the same bytes would come back.
    assert.equal(server.hits.length, 5);
    assert.equal(client.stats().errors, 5);
  } finally {
    await client.close();
  }
});
