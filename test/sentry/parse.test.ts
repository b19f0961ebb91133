import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { SentryApiError } from '../../src/sentry/errors.js';
import {
  errorDetail,
  parseJsonBody,
  parseCurrentRelease,
  parseEnvironments,
  parseIssues,
  parseMonitors,
  parseOrganizationProjectKeys,
  parseProjectKeys,
  parseProjects,
  parseSessionGroups,
  parseSessions,
  parseStatsV2,
} from '../../src/sentry/parse.js';
import {
  issueJson,
  makeClient,
  rejection,
  sendJson,
  startServer,
  type TestServer,
  listIssues,
} from './helpers.js';

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

test('projects: only id, slug, environments, platform and team slugs are read; all but id and slug may be absent', () => {
  const c = { endpoint: '/organizations/{org}/projects/', project: undefined };
  // ProjectSummarySerializer (src/sentry/api/serializers/models/project.py): `platform` is a string or null,
  // `teams` a list of {id, slug, name}, [] for a project without a team.
  assert.deepEqual(
    parseProjects(c, [
      {
        id: '1',
        slug: 'web',
        name: 'Web',
        platform: 'javascript',
        environments: ['production'],
        teams: [
          { id: '7', slug: 'frontend', name: 'Frontend' },
          { id: '3', slug: 'checkout', name: 'Checkout' },
        ],
        extra: 1,
      },
      // name is not used: its absence or odd types fail nothing
      { id: '2', slug: 'api', name: 7, platform: null, teams: [] },
      // an older server without platform and teams
      { id: '3', slug: 'cron' },
    ]),
    [
      {
        id: '1',
        slug: 'web',
        environments: ['production'],
        platform: 'javascript',
        teams: ['frontend', 'checkout'],
      },
      { id: '2', slug: 'api', environments: undefined, platform: null, teams: [] },
      { id: '3', slug: 'cron', environments: undefined, platform: null, teams: [] },
    ],
  );
  assert.match(
    parseError(() => parseProjects(c, [{ id: '1', slug: 'web', platform: 7 }])).message,
    /\[0\]\.platform should be a string or null, got number 7/,
  );
  assert.match(
    parseError(() => parseProjects(c, [{ id: '1', slug: 'web', teams: [{ id: '7', name: 'Frontend' }] }]))
      .message,
    /\[0\]\.teams\[0\]\.slug should be a string/,
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
  // The project as an id string; only the dimensions asked for are read, each required.
  const byProjectOutcome = parseStatsV2(['project', 'outcome']);
  const expected = { groups: [{ project: '1', outcome: 'accepted', quantity: 99 }] };
  assert.deepEqual(byProjectOutcome(s, sentryIo), expected);
  assert.deepEqual(byProjectOutcome(s, olderSelfHosted), expected);
  assert.deepEqual(byProjectOutcome(s, { groups: [] }), { groups: [] });
  assert.deepEqual(parseStatsV2(['outcome'])(s, sentryIo), {
    groups: [{ outcome: 'accepted', quantity: 99 }],
  });
  assert.match(
    parseError(() => byProjectOutcome(s, { groups: [{ by: {}, totals: { 'sum(quantity)': '99' } }] }))
      .message,
    /groups\[0\]\.totals\.sum\(quantity\) should be a non-negative integer, got "99"/,
  );
  assert.match(
    parseError(() =>
      byProjectOutcome(s, { groups: [{ by: { project: 1 }, totals: { 'sum(quantity)': 1 } }] }),
    ).message,
    /groups\[0\]\.by\.outcome should be a string, got nothing \(the field is absent\)/,
  );
  // A group without a reason is Sentry's "none" (snuba/outcomes.py ReasonDimension), also when sent as null.
  assert.deepEqual(
    parseStatsV2(['reason'])(s, { groups: [{ by: { reason: null }, totals: { 'sum(quantity)': 3 } }] }),
    { groups: [{ reason: 'none', quantity: 3 }] },
  );
  assert.match(
    parseError(() => byProjectOutcome(s, { groups: 'none' })).message,
    /groups should be an array/,
  );
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
        rejection(listIssues(client, { query: '' })),
        '/organizations/{org}/issues/',
        /\/api\/0\/organizations\/acme\/issues\/: \[1\]\.count/,
      ],
    ];
    for (const [p, endpoint, re] of cases) {
      const err = await p;
      assert.ok(err instanceof SentryApiError, `${endpoint}: expected a SentryApiError, got ${String(err)}`);
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

test('sessions: the requested totals only; counts are non-negative integers, rates 0 to 1 or null', () => {
  // docs/sentry-api.md Part 3 §1.3 (release_health/metrics_sessions_v2.py run_sessions_query): `by.project`
  // is an integer, environment and release strings (possibly ""), no groupBy gives `by: {}`; counts are
  // integers, never null; a rate is null without sessions (or users).
  const c = {
    endpoint: '/organizations/{org}/sessions/',
    url: 'https://sentry.example/api/0/organizations/acme/sessions/',
  };
  const fields = ['sum(session)', 'count_unique(user)', 'crash_free_rate(session)', 'crash_free_rate(user)'];
  const body = {
    start: '2021-01-14T00:00:00Z',
    end: '2021-01-15T00:00:00Z',
    intervals: ['2021-01-14T00:00:00Z', '2021-01-14T12:00:00Z'],
    query: '',
    groups: [
      {
        by: { project: 1, environment: 'production', release: 'foo@1.0.0', 'session.status': 'healthy' },
        totals: {
          'sum(session)': 4,
          'count_unique(user)': 0,
          'crash_free_rate(session)': 1,
          'crash_free_rate(user)': null,
          'p50(session.duration)': 'not read',
        },
        series: { 'sum(session)': [1, 3] },
      },
      {
        by: {},
        totals: {
          'sum(session)': 0,
          'count_unique(user)': 2,
          'crash_free_rate(session)': 0,
          'crash_free_rate(user)': 0.5,
        },
      },
      {
        by: { project: '7', environment: '', release: '' },
        totals: {
          'sum(session)': 9007199254740991,
          'count_unique(user)': 1,
          'crash_free_rate(session)': 0.8333333333333334,
          'crash_free_rate(user)': 1,
        },
      },
    ],
  };
  const groups = [
    {
      project: '1',
      environment: 'production',
      release: 'foo@1.0.0',
      status: 'healthy',
      totals: {
        'sum(session)': 4,
        'count_unique(user)': 0,
        'crash_free_rate(session)': 1,
        'crash_free_rate(user)': null,
      },
    },
    {
      project: undefined,
      environment: undefined,
      release: undefined,
      status: undefined,
      totals: {
        'sum(session)': 0,
        'count_unique(user)': 2,
        'crash_free_rate(session)': 0,
        'crash_free_rate(user)': 0.5,
      },
    },
    {
      project: '7',
      environment: '',
      release: '',
      status: undefined,
      totals: {
        'sum(session)': 9007199254740991,
        'count_unique(user)': 1,
        'crash_free_rate(session)': 0.8333333333333334,
        'crash_free_rate(user)': 1,
      },
    },
  ];
  assert.deepEqual(parseSessions(fields)(c, body), { intervals: 2, groups, leftOut: 0 });
  assert.deepEqual(parseSessionGroups(fields)(c, body), groups);
  // Only the fields asked for are read: a field nobody asked for may hold anything.
  assert.deepEqual(parseSessionGroups(['sum(session)'])(c, body)[0]?.totals, { 'sum(session)': 4 });

  const one = (totals: Record<string, unknown>, by: Record<string, unknown> = {}) => ({
    intervals: [],
    groups: [{ by, totals }],
  });
  const bad: Array<[string[], unknown, RegExp]> = [
    [
      ['sum(session)'],
      one({ 'sum(session)': null }),
      /groups\[0\]\.totals\["sum\(session\)"\] should be a non-negative integer, got null/,
    ],
    [
      ['sum(session)'],
      one({ 'sum(session)': -1 }),
      /"sum\(session\)"\] should be a non-negative integer, got number -1/,
    ],
    [['sum(session)'], one({ 'sum(session)': 1.5 }), /should be a non-negative integer, got number 1\.5/],
    [
      ['sum(session)'],
      one({ 'sum(session)': 2 ** 53 }),
      /should be a non-negative integer, got number 9007199254740992/,
    ],
    [
      ['count_unique(user)'],
      one({ 'count_unique(user)': '3' }),
      /"count_unique\(user\)"\] should be a non-negative integer, got "3"/,
    ],
    [
      ['crash_free_rate(session)'],
      one({ 'crash_free_rate(session)': 1.0001 }),
      /"crash_free_rate\(session\)"\] should be a number from 0 to 1 or null, got number 1\.0001/,
    ],
    [
      ['crash_free_rate(user)'],
      one({ 'crash_free_rate(user)': -0.5 }),
      /should be a number from 0 to 1 or null, got number -0\.5/,
    ],
    [
      ['crash_free_rate(user)'],
      one({}),
      /"crash_free_rate\(user\)"\] should be a number from 0 to 1 or null, got nothing \(the field is absent\)/,
    ],
    [
      ['crash_free_rate(user)'],
      one({ 'crash_free_rate(user)': '1' }),
      /should be a number from 0 to 1 or null, got "1"/,
    ],
    [
      ['sum(session)'],
      one({ 'sum(session)': 1 }, { environment: 5 }),
      /groups\[0\]\.by\.environment should be a string, got number 5/,
    ],
    [
      ['sum(session)'],
      one({ 'sum(session)': 1 }, { release: null }),
      /groups\[0\]\.by\.release should be a string, got null/,
    ],
    [
      ['sum(session)'],
      one({ 'sum(session)': 1 }, { 'session.status': true }),
      /by\.session\.status should be a string, got boolean true/,
    ],
    [
      ['sum(session)'],
      one({ 'sum(session)': 1 }, { project: '' }),
      /groups\[0\]\.by\.project should be an id \(non-empty string\), got ""/,
    ],
    [['sum(session)'], one({ 'sum(session)': 1 }, { project: 1.5 }), /by\.project should be an id/],
    [
      ['sum(session)'],
      { intervals: [], groups: [{ by: {} }] },
      /groups\[0\]\.totals should be an object, got nothing \(the field is absent\)/,
    ],
    [['sum(session)'], { intervals: [], groups: [{ totals: {} }] }, /groups\[0\]\.by should be an object/],
    [['sum(session)'], { intervals: [], groups: [[]] }, /groups\[0\] should be an object, got an array/],
    [['sum(session)'], { intervals: [], groups: {} }, /groups should be an array, got an object/],
    [['sum(session)'], { groups: [] }, /intervals should be an array, got nothing \(the field is absent\)/],
    [['sum(session)'], [], /the body should be an object, got an array/],
  ];
  for (const [f, json, re] of bad) {
    const err = parseError(() => parseSessions(f)(c, json));
    assert.equal(err.endpoint, '/organizations/{org}/sessions/');
    assert.match(
      err.message,
      /^Unexpected response from Sentry https:\/\/sentry\.example\/api\/0\/organizations\/acme\/sessions\/: /,
    );
    assert.match(err.message, re);
  }
});

test('monitors: environments as an array, timestamps with their zone to the microsecond, isMuted false when absent', () => {
  // docs/sentry-api.md Part 3 §2.2 (monitors/serializers.py): the project object carries a string id,
  // environments is an array (the spec says an object), the check-in times are ISO datetimes or null.
  const c = {
    endpoint: '/organizations/{org}/monitors/',
    url: 'https://sentry.example/api/0/organizations/acme/monitors/',
  };
  const monitor = {
    id: '9b5a4c1e-0000-4000-8000-000000000001',
    slug: 'nightly',
    name: 'Nightly',
    status: 'active',
    type: 'cron_job',
    config: { schedule_type: 'crontab', schedule: '0 2 * * *' },
    project: { id: '42', slug: 'backend', name: 'Backend', platform: null },
    owner: null,
    environments: [
      {
        name: 'production',
        status: 'ok',
        isMuted: true,
        dateCreated: '2024-04-01T00:00:00Z',
        lastCheckIn: '2024-05-01T11:00:00.123456Z',
        nextCheckIn: null,
        nextCheckInLatest: '2024-05-02T02:05:00+00:00',
        activeIncident: null,
      },
      // older releases: no isMuted; an offset without a colon; a time before 1970 with a fraction
      { name: 'dev', status: 'missed_checkin', lastCheckIn: '2024-05-01T13:30:00+0200' },
      { name: 'epoch', status: 'error', lastCheckIn: '1969-12-31T23:59:59.5Z', nextCheckInLatest: null },
    ],
  };
  assert.deepEqual(parseMonitors(c, [monitor, { ...monitor, id: 'm2', isMuted: true, environments: [] }]), [
    {
      id: '9b5a4c1e-0000-4000-8000-000000000001',
      slug: 'nightly',
      status: 'active',
      isMuted: false,
      projectId: '42',
      projectSlug: 'backend',
      environments: [
        {
          name: 'production',
          status: 'ok',
          isMuted: true,
          lastCheckIn: 1714561200.123456,
          nextCheckInLatest: 1714615500,
        },
        {
          name: 'dev',
          status: 'missed_checkin',
          isMuted: false,
          lastCheckIn: 1714563000,
          nextCheckInLatest: null,
        },
        { name: 'epoch', status: 'error', isMuted: false, lastCheckIn: -0.5, nextCheckInLatest: null },
      ],
    },
    {
      id: 'm2',
      slug: 'nightly',
      status: 'active',
      isMuted: true,
      projectId: '42',
      projectSlug: 'backend',
      environments: [],
    },
  ]);
  const env = (e: Record<string, unknown>) => [
    { ...monitor, environments: [{ name: 'p', status: 'ok', ...e }] },
  ];
  const bad: Array<[unknown, RegExp]> = [
    [
      env({ lastCheckIn: '2024-05-01T12:00:00' }),
      /\[0\]\.environments\[0\]\.lastCheckIn should be an ISO 8601 timestamp with a time zone, or null, got "2024-05-01T12:00:00"/,
    ],
    [
      env({ lastCheckIn: 1714561200 }),
      /\[0\]\.environments\[0\]\.lastCheckIn should be an ISO 8601 timestamp/,
    ],
    [
      env({ nextCheckInLatest: '2024-13-01T00:00:00Z' }),
      /\[0\]\.environments\[0\]\.nextCheckInLatest should be an ISO 8601 timestamp/,
    ],
    [
      env({ nextCheckInLatest: ' 2024-05-01T00:00:00Z' }),
      /nextCheckInLatest should be an ISO 8601 timestamp/,
    ],
    [env({ lastCheckIn: '2024-05-01T00:00:00Z ' }), /lastCheckIn should be an ISO 8601 timestamp/],
    [env({ isMuted: 'no' }), /\[0\]\.environments\[0\]\.isMuted should be a boolean, got "no"/],
    [env({ status: null }), /\[0\]\.environments\[0\]\.status should be a string, got null/],
    [[{ ...monitor, environments: {} }], /\[0\]\.environments should be an array, got an object/],
    [[{ ...monitor, environments: [7] }], /\[0\]\.environments\[0\] should be an object, got number 7/],
    [[{ ...monitor, project: null }], /\[0\]\.project should be an object, got null/],
    [[{ ...monitor, project: { id: '42' } }], /\[0\]\.project\.slug should be a string/],
    [[{ ...monitor, project: { slug: 'x' } }], /\[0\]\.project\.id should be an id/],
    [[{ ...monitor, isMuted: 1 }], /\[0\]\.isMuted should be a boolean, got number 1/],
    [[{ ...monitor, status: 3 }], /\[0\]\.status should be a string, got number 3/],
    [
      [{ ...monitor, slug: undefined }],
      /\[0\]\.slug should be a string, got nothing \(the field is absent\)/,
    ],
  ];
  for (const [json, re] of bad) {
    const err = parseError(() => parseMonitors(c, json));
    assert.equal(err.endpoint, '/organizations/{org}/monitors/');
    assert.match(err.message, re);
  }
});

/** The message of the parse error `fn` throws, after the URL: "<where> should be <expected>, got <value>". */
function problem(fn: () => unknown): string {
  const message = parseError(fn).message;
  const at = message.indexOf(': ');
  assert.ok(at > 0, message);
  return message.slice(at + 2);
}

test('issues: the edges of each field: absent optional fields, numeric counts, dates, long values in messages', () => {
  const { logger: _, ...withoutLogger } = issueJson(1);
  const [issue] = parseIssues(ctx, [{ ...withoutLogger, count: 0, firstSeen: null }]);
  assert.equal(issue?.logger, null);
  assert.equal(issue?.count, 0);
  assert.equal(issue?.firstSeen, null);
  assert.equal(parseIssues(ctx, [{ ...issueJson(1), logger: 'javascript' }])[0]?.logger, 'javascript');
  assert.equal(parseIssues(ctx, [{ ...issueJson(1), count: 7 }])[0]?.count, 7);

  // A value longer than 40 characters is described by its length, a shorter one is quoted.
  assert.equal(
    problem(() => parseIssues(ctx, [{ ...issueJson(1), count: 'x'.repeat(41) }])),
    '[0].count should be a non-negative integer string, got a string of 41 chars',
  );
  assert.equal(
    problem(() => parseIssues(ctx, [{ ...issueJson(1), count: 'y'.repeat(40) }])),
    `[0].count should be a non-negative integer string, got "${'y'.repeat(40)}"`,
  );
  assert.equal(
    problem(() => parseIssues(ctx, [{ ...issueJson(1), count: 1.5 }])),
    '[0].count should be a non-negative integer string, got number 1.5',
  );
  assert.equal(
    problem(() => parseIssues(ctx, [{ ...issueJson(1), count: -1 }])),
    '[0].count should be a non-negative integer string, got number -1',
  );
  assert.equal(
    problem(() => parseIssues(ctx, [{ ...issueJson(1), count: ['5'] }])),
    '[0].count should be a non-negative integer string, got an array',
  );
  assert.equal(
    problem(() => parseIssues(ctx, [{ ...issueJson(1), firstSeen: 'yesterday' }])),
    '[0].firstSeen should be a date or null, got "yesterday"',
  );
});

test('projects and keys: null or absent optional parts, and the paths of wrong ones', () => {
  const p = { endpoint: '/organizations/{org}/projects/' };
  assert.deepEqual(parseProjects(p, [{ id: '1', slug: 'web', environments: null }]), [
    { id: '1', slug: 'web', environments: undefined, platform: null, teams: [] },
  ]);
  assert.equal(
    problem(() => parseProjects(p, [{ id: '1', slug: 'web', environments: 'prod' }])),
    '[0].environments should be an array, got "prod"',
  );

  const k = { endpoint: '/projects/{org}/{project}/keys/' };
  assert.deepEqual(parseProjectKeys(k, [{ isActive: true }]), [{ isActive: true, rateLimit: null }]);
  assert.equal(
    problem(() => parseProjectKeys(k, [{ rateLimit: null }])),
    '[0].isActive should be a boolean, got nothing (the field is absent)',
  );
  assert.equal(
    problem(() => parseProjectKeys(k, [{ isActive: true, rateLimit: 5 }])),
    '[0].rateLimit should be an object, got number 5',
  );
  assert.equal(
    problem(() => parseProjectKeys(k, [{ isActive: true, rateLimit: { window: 1.5, count: 1 } }])),
    '[0].rateLimit.window should be an integer, got number 1.5',
  );
  assert.equal(
    problem(() => parseProjectKeys(k, [{ isActive: true, rateLimit: { window: 60, count: '1' } }])),
    '[0].rateLimit.count should be an integer, got "1"',
  );
  const o = { endpoint: '/organizations/{org}/project-keys/' };
  assert.equal(
    problem(() => parseOrganizationProjectKeys(o, [{ projectId: 1.5, isActive: true }])),
    '[0].projectId should be an id (non-empty string), got number 1.5',
  );
});

test('stats_v2, current release and sessions: the paths of wrong envelopes and values', () => {
  const s = { endpoint: '/organizations/{org}/stats_v2/' };
  const stats = parseStatsV2(['project']);
  const one = { 'sum(quantity)': 1 };
  assert.equal(
    problem(() => stats(s, [])),
    'the body should be an object, got an array',
  );
  assert.equal(
    problem(() => stats(s, { groups: [{ by: 5, totals: one }] })),
    'groups[0].by should be an object, got number 5',
  );
  assert.equal(
    problem(() => stats(s, { groups: [{ by: { project: true }, totals: one }] })),
    'groups[0].by.project should be an id (non-empty string), got boolean true',
  );
  assert.equal(
    problem(() => stats(s, { groups: [{ by: { project: Infinity }, totals: one }] })),
    'groups[0].by.project should be an id (non-empty string), got number Infinity',
  );
  assert.equal(
    problem(() => stats(s, { groups: [{ by: {}, totals: null }] })),
    'groups[0].totals should be an object, got null',
  );
  assert.equal(
    problem(() => stats(s, { groups: [{ by: {}, totals: { 'sum(quantity)': Infinity } }] })),
    'groups[0].totals.sum(quantity) should be a non-negative integer, got number Infinity',
  );
  assert.equal(
    problem(() => stats(s, { groups: [{ by: {}, totals: { 'sum(quantity)': -1 } }] })),
    'groups[0].totals.sum(quantity) should be a non-negative integer, got number -1',
  );

  const r = { endpoint: '/organizations/{org}/issues/{issue_id}/current-release/' };
  assert.equal(
    problem(() => parseCurrentRelease(r, 'v1')),
    'the body should be an object, got "v1"',
  );
  assert.equal(
    problem(() => parseCurrentRelease(r, { currentRelease: 5 })),
    'currentRelease should be an object, got number 5',
  );
  assert.equal(
    problem(() => parseCurrentRelease(r, { currentRelease: { release: null } })),
    'currentRelease.release should be an object, got null',
  );

  const c = { endpoint: '/organizations/{org}/sessions/' };
  assert.equal(
    problem(() => parseSessionGroups(['sum(session)'])(c, null)),
    'the body should be an object, got null',
  );
});

test('monitors: a timestamp must be a string', () => {
  const m = { endpoint: '/organizations/{org}/monitors/' };
  const monitor = {
    id: 'm1',
    slug: 'nightly',
    status: 'active',
    project: { id: '1', slug: 'web' },
    environments: [{ name: 'production', status: 'ok', lastCheckIn: ['2024-05-01T10:00:00Z'] }],
  };
  assert.equal(
    problem(() => parseMonitors(m, [monitor])),
    '[0].environments[0].lastCheckIn should be an ISO 8601 timestamp with a time zone, or null, got an array',
  );
});

test('bodies that are not JSON and the detail of error bodies', () => {
  const b = { endpoint: '/organizations/{org}/issues/', url: 'https://sentry.example/api/0/x/' };
  assert.equal(
    problem(() => parseJsonBody(b, ' \n', 'application/json')),
    'expected JSON, got an empty body',
  );
  assert.equal(
    problem(() => parseJsonBody(b, '<html', undefined)),
    'expected JSON, got 5 bytes of unknown type',
  );
  assert.equal(
    problem(() => parseJsonBody(b, '<html>', 'text/html')),
    'expected JSON, got 6 bytes of text/html',
  );

  // Sentry's error bodies: {"detail": "..."}, or {"detail": {"message": "...", "code": "..."}} (an
  // APIException with a dict detail).
  assert.equal(errorDetail('{"detail":{"message":"Invalid query","code":"parse_error"}}'), 'Invalid query');
  assert.equal(errorDetail('{"detail":{"message":5}}'), undefined);
  assert.equal(errorDetail('{"detail":5}'), undefined);
});

test('SentryApiError: its name, its cause, and the object logged for it', () => {
  const cause = new Error('socket hang up');
  const err = new SentryApiError('GET /x failed', {
    kind: 'network',
    endpoint: '/organizations/{org}/issues/',
    project: 'web',
    attempts: 3,
    cause,
  });
  assert.equal(err.name, 'SentryApiError');
  assert.equal(err.cause, cause);
  assert.deepEqual(err.toLog(), {
    kind: 'network',
    endpoint: '/organizations/{org}/issues/',
    status: undefined,
    detail: undefined,
    project: 'web',
    attempts: 3,
    message: 'GET /x failed',
  });
  assert.equal('cause' in new SentryApiError('m', { kind: 'parse', endpoint: '/e/' }), false);
});
