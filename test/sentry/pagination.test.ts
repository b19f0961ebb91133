import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { SentryApiError } from '../../src/sentry/errors.js';
import { countHeader, nextPage, parseLinkHeader, splitByUrlLength } from '../../src/sentry/pagination.js';
import {
  issueJson,
  linkHeader,
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

test('parseLinkHeader reads Sentry Link headers', () => {
  const h =
    '<https://sentry.io/api/0/organizations/acme/issues/?limit=100&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", ' +
    '<https://sentry.io/api/0/organizations/acme/issues/?limit=100&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"';
  const entries = parseLinkHeader(h);
  assert.equal(entries.length, 2);
  assert.deepEqual(
    entries.map((e) => [e.rel, e.results, e.cursor]),
    [
      ['previous', false, '0:0:1'],
      ['next', true, '0:100:0'],
    ],
  );
  assert.deepEqual(nextPage(h), { kind: 'next', cursor: '0:100:0' });
  assert.deepEqual(nextPage(h.replace('results="true"', 'results="false"')), { kind: 'none' });
  assert.deepEqual(nextPage(undefined), { kind: 'none' });
  // Cursor only in the URL: still found.
  assert.deepEqual(nextPage('<http://x/a/?cursor=1:200:0>; rel="next"; results="true"'), {
    kind: 'next',
    cursor: '1:200:0',
  });
  assert.equal(nextPage('<http://x/a/>; rel="next"; results="true"').kind, 'invalid');
});

test('listIssues follows pagination across 4 pages and returns every issue exactly once', async () => {
  const total = 350;
  const server = await startServer((_req, res, hit) => {
    const offset = Number((hit.query.get('cursor') ?? '0:0:0').split(':')[1]);
    const limit = Number(hit.query.get('limit'));
    const page = Array.from({ length: Math.min(limit, total - offset) }, (_, i) => issueJson(offset + i + 1));
    const self = `http://internal-host:9000${hit.path}?limit=100`;
    const hasNext = offset + limit < total;
    sendJson(res, 200, page, {
      link: linkHeader(
        self,
        `0:${Math.max(0, offset - limit)}:1`,
        offset > 0,
        `0:${offset + limit}:0`,
        hasNext,
      ),
    });
  });
  servers.push(server);
  const { client } = makeClient(server.baseUrl);
  try {
    const issues = await listIssues(client, { query: 'is:unresolved', projectIds: ['1'] });
    assert.equal(issues.length, total);
    assert.equal(new Set(issues.map((i) => i.id)).size, total);
    assert.deepEqual(
      issues.map((i) => Number(i.id)),
      Array.from({ length: total }, (_, i) => i + 1),
    );
    assert.equal(server.hits.length, 4);
    // Every page asks for 100 and carries the same filters; only the cursor changes.
    assert.deepEqual(
      server.hits.map((h) => h.query.get('cursor')),
      [null, '0:100:0', '0:200:0', '0:300:0'],
    );
    for (const h of server.hits) {
      assert.equal(h.query.get('limit'), '100');
      assert.equal(h.query.get('query'), 'is:unresolved');
      assert.deepEqual(h.query.getAll('project'), ['1']);
    }
    // The Link pointed at another host; the client stayed on its own base URL.
    assert.equal(client.stats().requests, 4);
  } finally {
    await client.close();
  }
});

test('a server that serves the same cursor twice is an error, not an endless loop', async () => {
  const server = await startServer((_req, res, hit) => {
    sendJson(res, 200, [issueJson(1)], {
      link: linkHeader(`http://h${hit.path}?limit=100`, '0:0:1', false, '0:100:0', true),
    });
  });
  servers.push(server);
  const { client } = makeClient(server.baseUrl);
  try {
    const err = await rejection(listIssues(client, { query: '' }));
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.equal(err.kind, 'parse');
    assert.equal(err.endpoint, '/organizations/{org}/issues/');
    assert.match(err.message, /cursor "0:100:0" was served twice/);
    assert.equal(server.hits.length, 2);
  } finally {
    await client.close();
  }
});

test('results="true" without a cursor is an error, not a silent last page', async () => {
  const server = await startServer((_req, res) => {
    sendJson(res, 200, [{ id: '1', slug: 'web', name: 'Web', platform: null }], {
      link: '<http://h/x/>; rel="next"; results="true"',
    });
  });
  servers.push(server);
  const { client } = makeClient(server.baseUrl);
  try {
    const err = await rejection(client.listProjects());
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.equal(err.kind, 'parse');
    assert.equal(err.endpoint, '/organizations/{org}/projects/');
    assert.match(err.message, /no cursor/);
  } finally {
    await client.close();
  }
});

test('a list without Link header is one page (self-hosted environments endpoint)', async () => {
  const server = await startServer((_req, res) => {
    sendJson(res, 200, [
      { id: '1', name: 'production', isHidden: false },
      { id: '2', name: 'staging', isHidden: true },
    ]);
  });
  servers.push(server);
  const { client } = makeClient(server.baseUrl);
  try {
    const envs = await client.listProjectEnvironments('web');
    assert.deepEqual(envs, [{ name: 'production' }, { name: 'staging' }]);
    assert.equal(server.hits.length, 1);
  } finally {
    await client.close();
  }
});

test('parseLinkHeader: spacing, tabs, unquoted and unterminated values, stray text', () => {
  const shape = (h: string) => parseLinkHeader(h).map((e) => [e.url, e.rel, e.results, e.cursor]);
  // Whitespace before ';' (spaces or tabs) and around '=', unquoted values.
  assert.deepEqual(shape('<u> ;\trel = next ; results = TRUE ; cursor = 0:100:0 , <v>\t; rel=previous'), [
    ['u', 'next', true, '0:100:0'],
    ['v', 'previous', undefined, undefined],
  ]);
  assert.deepEqual(shape(' <u>; rel="next"'), [['u', 'next', undefined, undefined]]);
  // A quoted value that never ends runs to the end of the header.
  assert.deepEqual(shape('<a>; rel="previous", <b>; rel="next'), [
    ['a', 'previous', undefined, undefined],
    ['b', 'next', undefined, undefined],
  ]);
  // Text that is not a link: an unclosed '<', a parameter without '=', a '>' before the '<'.
  assert.deepEqual(shape('<unclosed; rel="next"'), []);
  assert.deepEqual(shape('<u>; rel="next", junk'), [['u', 'next', undefined, undefined]]);
  assert.deepEqual(shape('<u>; rel'), [['u', undefined, undefined, undefined]]);
  assert.deepEqual(shape('><u>; rel="next"'), [['u', 'next', undefined, undefined]]);
});

test('nextPage: no header, no next link, results="false", and where the cursor comes from', () => {
  assert.deepEqual(nextPage(undefined), { kind: 'none' });
  assert.deepEqual(nextPage('  '), { kind: 'none' });
  assert.deepEqual(nextPage('<https://s/?cursor=p>; rel="previous"; results="true"; cursor="p"'), {
    kind: 'none',
  });
  assert.deepEqual(nextPage('<https://s/?cursor=n>; rel="next"; results="false"; cursor="n"'), {
    kind: 'none',
  });
  // The cursor parameter wins over the link's query string; the query string serves when the parameter is
  // missing or empty (a proxy that strips parameters).
  assert.deepEqual(
    nextPage('<https://s/?cursor=from-url>; rel="next"; results="true"; cursor="from-param"'),
    {
      kind: 'next',
      cursor: 'from-param',
    },
  );
  assert.deepEqual(nextPage('<https://s/?cursor=from-url>; rel="next"; results="true"'), {
    kind: 'next',
    cursor: 'from-url',
  });
  assert.deepEqual(nextPage('<https://s/?cursor=from-url>; rel="next"; results="true"; cursor=""'), {
    kind: 'next',
    cursor: 'from-url',
  });
  for (const h of [
    '<https://s/?limit=100>; rel="next"; results="true"; cursor=""',
    '<http://[>; rel="next"; results="true"',
    '<https://s/?cursor=>; rel="next"; results="true"',
  ]) {
    assert.deepEqual(nextPage(h), {
      kind: 'invalid',
      reason: 'Link rel="next" says results="true" but carries no cursor',
    });
  }
});

test('countHeader and splitByUrlLength at their edges', () => {
  assert.equal(countHeader('  42 '), 42);
  assert.equal(countHeader('abc'), undefined);
  assert.equal(countHeader('-1'), undefined);
  assert.equal(countHeader(undefined), undefined);

  // Each value adds its name, its encoded length and 2 ('&' and '='): 1 + 2 + 2 = 5 bytes here.
  assert.deepEqual(splitByUrlLength(10, 'p', ['ab', 'cd'], 20), [['ab', 'cd']]);
  assert.deepEqual(splitByUrlLength(10, 'p', ['ab', 'cd'], 19), [['ab'], ['cd']]);
  assert.deepEqual(splitByUrlLength(10, 'p', [], 100), []);
});
