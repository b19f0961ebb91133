/**
 * What the client does when Sentry's answers misbehave over time, against small explicit servers:
 * lists that shift while paged (deduplicated by id), pages that never end (stopped at X-Hits, at
 * SENTRY_API_MAX_ITEMS, after pages without anything new), URLs that would outgrow HTTP (project lists
 * split, longer URLs never sent, oversized answer headers not retried), a rotated token file (a 401 reads
 * it again), and single malformed items (left out and reported when the caller asks, never silently).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TokenFile } from '../../src/config/token-file.js';
import { SentryApiError } from '../../src/sentry/errors.js';
import {
  ItemBudget,
  MAX_URL_BYTES,
  URL_BUDGET_BYTES,
  countHeader,
  hitsBound,
  splitByUrlLength,
} from '../../src/sentry/pagination.js';
import { SkippedItems } from '../../src/sentry/skipped.js';
import {
  TOKEN,
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
  for (const s of servers) await s.close();
});

async function serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

/** Page `n` (0-based) of a cursor-paginated answer: the cursor is `0:<n>:0`. */
function pageOf(hitQuery: URLSearchParams): number {
  return Number((hitQuery.get('cursor') ?? '0:0:0').split(':')[1]);
}

function link(n: number, more: boolean): string {
  return linkHeader('http://sentry/api/0/x/?limit=100', `0:${n}:1`, n > 0, `0:${n + 1}:0`, more);
}

test('X-Hits is a bound below its cap of 1000, and no bound at the cap or without it', () => {
  assert.equal(hitsBound(undefined, undefined), undefined);
  assert.equal(hitsBound(0, 1000), 100, 'at least one page of margin');
  assert.equal(hitsBound(300, 1000), 400);
  assert.equal(hitsBound(800, undefined), 1000, 'a quarter of margin for the estimate');
  assert.equal(hitsBound(1000, 1000), undefined, 'capped: the real count may be anything above');
  assert.equal(hitsBound(1000, undefined), undefined);
  assert.equal(countHeader(' 42 '), 42);
  for (const bad of [undefined, '', '-1', '1e3', 'many', '12345678901234567']) {
    assert.equal(countHeader(bad), undefined, String(bad));
  }
});

test('project lists are split so that every URL stays within the budget', () => {
  const ids = Array.from({ length: 700 }, (_, i) => String(4505281256090000 + i));
  const groups = splitByUrlLength(200, 'project', ids, URL_BUDGET_BYTES);
  assert.deepEqual(groups.flat(), ids, 'every id once, in order');
  for (const g of groups)
    assert.ok(
      200 + g.length * '&project=4505281256090000'.length <= URL_BUDGET_BYTES,
      `a group of ${g.length} ids fits the URL budget of ${URL_BUDGET_BYTES} bytes`,
    );
  assert.equal(groups.length, Math.ceil(700 / Math.floor((URL_BUDGET_BYTES - 200) / 25)));
  assert.deepEqual(splitByUrlLength(5000, 'project', ['1', '2'], URL_BUDGET_BYTES), [['1'], ['2']]);
});

test('a list that shifts while paged: repeated issues are dropped and counted', async () => {
  // Each later page starts 30 issues before the previous one ended, as an offset-paginated list does after
  // 30 new issues arrived; the cursor carries where the previous page ended.
  const server = await serve((_req, res, hit) => {
    const end = pageOf(hit.query);
    const start = Math.max(0, end - 30);
    const page = Array.from({ length: Math.min(100, 250 - start) }, (_, i) => issueJson(start + i + 1));
    const next = start + page.length;
    sendJson(res, 200, page, {
      link: linkHeader(
        'http://sentry/api/0/x/?limit=100',
        `0:${start}:1`,
        start > 0,
        `0:${next}:0`,
        next < 250,
      ),
    });
  });
  const duplicates: Array<[string, number]> = [];
  const { client } = makeClient(server.baseUrl, { onDuplicates: (e, c) => duplicates.push([e, c]) });
  try {
    const issues = await listIssues(client, { query: 'is:unresolved', projectIds: ['1'] });
    assert.deepEqual(
      issues.map((i) => Number(i.id)),
      Array.from({ length: 250 }, (_, i) => i + 1),
    );
    assert.equal(server.hits.length, 4);
    assert.deepEqual(duplicates, [
      ['/organizations/{org}/issues/', 30],
      ['/organizations/{org}/issues/', 30],
      ['/organizations/{org}/issues/', 30],
    ]);
  } finally {
    await client.close();
  }
});

test('pages that never end stop at X-Hits plus the margin, naming the endpoint', async () => {
  const server = await serve((_req, res, hit) => {
    const n = pageOf(hit.query);
    const page = Array.from({ length: 100 }, (_, i) => issueJson(n * 100 + i + 1));
    sendJson(res, 200, page, { link: link(n, true), 'x-hits': '150', 'x-max-hits': '1000' });
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const err = await rejection(listIssues(client, { query: '', projectIds: ['1'] }));
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.equal(err.kind, 'parse');
    assert.equal(err.endpoint, '/organizations/{org}/issues/');
    assert.match(err.message, /\/api\/0\/organizations\/acme\/issues\/: pagination does not end: 300 items/);
    assert.match(err.message, /X-Hits said 150 \(allowed: 250/);
    assert.equal(server.hits.length, 3);
  } finally {
    await client.close();
  }
});

test('X-Hits at its cap is no bound: SENTRY_API_MAX_ITEMS stops a query, and the queries of a run together', async () => {
  // Query "endless" never ends; the others end after 800 issues. X-Hits says 1000 of at most 1000.
  const server = await serve((_req, res, hit) => {
    const n = pageOf(hit.query);
    const endless = hit.query.get('query') === 'endless';
    const page = Array.from({ length: 100 }, (_, i) => issueJson(n * 100 + i + 1));
    sendJson(res, 200, page, { link: link(n, endless || n < 7), 'x-hits': '1000', 'x-max-hits': '1000' });
  });
  const { client } = makeClient(server.baseUrl, { maxItems: 1500 });
  try {
    const err = await rejection(listIssues(client, { query: 'endless', projectIds: ['1'] }));
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.match(
      err.message,
      /1500 items listed and more announced, the most one query may list \(SENTRY_API_MAX_ITEMS\)/,
    );
    assert.equal(server.hits.length, 15);

    const budget = new ItemBudget();
    assert.equal((await listIssues(client, { query: 'a', projectIds: ['1'] }, { budget })).length, 800);
    const second = await rejection(listIssues(client, { query: 'b', projectIds: ['1'] }, { budget }));
    assert.ok(
      second instanceof SentryApiError,
      `the second listing over the shared budget fails with a SentryApiError, got ${String(second)}`,
    );
    assert.match(second.message, /this collector run listed 1500 items and more are announced/);
  } finally {
    await client.close();
  }
});

test('one empty page that announces more is followed (Sentry guesses); three in a row end the list with an error', async () => {
  // Pages: 100 issues, empty, 50 issues and the end.
  const server = await serve((_req, res, hit) => {
    const n = pageOf(hit.query);
    const page =
      n === 0
        ? Array.from({ length: 100 }, (_, i) => issueJson(i + 1))
        : n === 2
          ? Array.from({ length: 50 }, (_, i) => issueJson(101 + i))
          : [];
    sendJson(res, 200, page, { link: link(n, n < 2) });
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const issues = await listIssues(client, { query: '', projectIds: ['1'] });
    assert.equal(issues.length, 150);
  } finally {
    await client.close();
  }

  const empty = await serve((_req, res, hit) => {
    const n = pageOf(hit.query);
    sendJson(res, 200, n === 0 ? [issueJson(1)] : [], { link: link(n, true) });
  });
  const second = makeClient(empty.baseUrl).client;
  try {
    const err = await rejection(listIssues(second, { query: '', projectIds: ['1'] }));
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.match(err.message, /3 pages in a row brought no new item, yet announce more \(results="true"\)/);
    assert.equal(empty.hits.length, 4);
  } finally {
    await second.close();
  }
});

test('a long project list is asked in groups: no URL longer than the budget, every issue once', async () => {
  const ids = Array.from({ length: 800 }, (_, i) => String(4505281256090000 + i * 13));
  const server = await serve((req, res, hit) => {
    const projects = hit.query.getAll('project');
    sendJson(
      res,
      200,
      projects.map((p, i) => issueJson(Number(p.slice(-6)) * 10 + i, p)),
      { link: link(0, false) },
    );
    void req;
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const issues = await listIssues(client, {
      query: 'is:unresolved firstSeen:-14d',
      projectIds: ids,
      environment: 'production',
    });
    assert.equal(issues.length, 800);
    assert.deepEqual(
      server.hits.flatMap((h) => h.query.getAll('project')),
      ids,
    );
    assert.ok(server.hits.length >= 5, `the ids are split over at least 5 requests (${server.hits.length})`);
    for (const h of server.hits) {
      const length = `${server.baseUrl}organizations/acme/issues/?${h.query.toString()}`.length;
      assert.ok(length <= URL_BUDGET_BYTES, `${length} bytes`);
      assert.equal(h.query.get('environment'), 'production');
    }
  } finally {
    await client.close();
  }
});

test('a URL over 8 KiB is never sent; response headers over 16 KiB fail at once, not retried', async () => {
  const server = await serve((_req, res) => {
    // The request URL echoed twice, as Sentry's Link header does.
    const echo = `<http://sentry/api/0/x/?${'project=1&'.repeat(900)}&cursor=0:100:0>; rel="next"; results="false"; cursor="0:100:0"`;
    sendJson(res, 200, [issueJson(1)], { link: `${echo}, ${echo}` });
  });
  const { client } = makeClient(server.baseUrl);
  try {
    const long = await rejection(listIssues(client, { query: 'x'.repeat(MAX_URL_BYTES), projectIds: ['1'] }));
    assert.ok(
      long instanceof SentryApiError,
      `a query longer than the URL limit fails with a SentryApiError, got ${String(long)}`,
    );
    assert.equal(long.kind, 'request');
    assert.match(long.message, /not sent: its URL would be \d+ bytes, more than the 8192 proxies accept/);
    assert.equal(server.hits.length, 0);

    const big = await rejection(listIssues(client, { query: '', projectIds: ['1'] }));
    assert.ok(big instanceof SentryApiError, `expected a SentryApiError, got ${String(big)}`);
    assert.equal(big.kind, 'request');
    assert.equal(big.attempts, 1);
    assert.match(big.message, /response headers exceed 16384 bytes \(UND_ERR_HEADERS_OVERFLOW\)/);
    assert.equal(server.hits.length, 1);
  } finally {
    await client.close();
  }
});

test('an answer larger than the body limit fails at once, not retried', async () => {
  const server = await serve((_req, res) => {
    sendJson(
      res,
      200,
      Array.from({ length: 3000 }, (_, i) => issueJson(i + 1)),
    );
  });
  const { client } = makeClient(server.baseUrl, { maxResponseBytes: 64 * 1024 });
  try {
    const err = await rejection(listIssues(client, { query: '' }));
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.equal(err.kind, 'request');
    assert.equal(err.attempts, 1);
    assert.match(err.message, /the answer is larger than 65536 bytes/);
    assert.equal(server.hits.length, 1);
  } finally {
    await client.close();
  }
});

test('a 401 reads the token file again and tries once more with the new token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'client-token-'));
  const other = mkdtempSync(join(tmpdir(), 'client-token-target-'));
  const NEW = 'sntrys_rotated_token_1a2b3c4d5e6f';
  try {
    // A symlink into another directory, and an hour between reads: only the 401 can notice the change.
    writeFileSync(join(other, 'token'), TOKEN);
    symlinkSync(join(other, 'token'), join(dir, 'token'));
    const { logger } = makeClient('http://127.0.0.1:1/api/0/').log;
    const tokens = new TokenFile(join(dir, 'token'), { initial: TOKEN, logger, checkIntervalMs: 3_600_000 });
    const server = await serve((req, res) => {
      if (req.headers.authorization === `Bearer ${NEW}`) sendJson(res, 200, [issueJson(1)]);
      else sendJson(res, 401, { detail: 'Invalid token' });
    });
    const { client } = makeClient(server.baseUrl, { token: tokens });
    try {
      const refused = await rejection(listIssues(client, { query: '' }));
      assert.ok(refused instanceof SentryApiError, `expected a SentryApiError, got ${String(refused)}`);
      assert.equal(refused.status, 401);
      assert.match(refused.message, /was read again and still holds the token the exporter started with/);
      assert.equal(server.hits.length, 1, 'not retried when the file holds the same token');

      writeFileSync(join(other, 'token'), `${NEW}\n`);
      const issues = await listIssues(client, { query: '' });
      assert.equal(issues.length, 1);
      assert.deepEqual(
        server.hits.slice(1).map((h) => h.headers.authorization),
        [`Bearer ${TOKEN}`, `Bearer ${NEW}`],
      );
    } finally {
      await client.close();
      tokens.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  }
});

test('a malformed item is left out and reported when the caller asks, fails the call otherwise', async () => {
  const server = await serve((_req, res) => {
    sendJson(res, 200, [
      issueJson(1),
      { ...issueJson(2), count: 'abc' },
      { ...issueJson(3), count: '9007199254740993' },
      { ...issueJson(4), firstSeen: 'yesterday' },
      null,
      issueJson(5),
      issueJson(6),
    ]);
  });
  const skippedCounts: number[] = [];
  const { client } = makeClient(server.baseUrl, { onSkipped: (_e, n) => skippedCounts.push(n) });
  try {
    const strict = await rejection(listIssues(client, { query: '' }));
    assert.ok(strict instanceof SentryApiError, `expected a SentryApiError, got ${String(strict)}`);
    assert.match(strict.message, /\[1\]\.count should be a non-negative integer string, got "abc"/);

    const skipped = new SkippedItems();
    const issues = await listIssues(client, { query: '' }, { skipped });
    assert.deepEqual(
      issues.map((i) => [i.id, i.count]),
      [
        ['1', 3],
        ['3', 9007199254740992],
        ['5', 15],
        ['6', 18],
      ],
    );
    assert.equal(skipped.count, 3);
    assert.deepEqual(skippedCounts, [3], 'counted once per call');
    const [entry] = skipped.toLog();
    assert.equal(entry?.endpoint, '/organizations/{org}/issues/');
    assert.equal(entry?.count, 3);
    assert.match(entry?.example ?? '', /\/api\/0\/organizations\/acme\/issues\/: \[1\]\.count/);
  } finally {
    await client.close();
  }
});

test('more than half of the items malformed fails the call, naming the endpoint and the first bad field', async () => {
  // A shape change: issues lost their `status` (renamed to `state`): 51 of the first page, all of the next.
  let pages = 0;
  const server = await serve((req, res) => {
    const n = pageOf(new URL(req.url ?? '/', 'http://x').searchParams);
    pages++;
    const body = Array.from({ length: 100 }, (_, i) => {
      const { status: _status, ...rest } = issueJson(n * 100 + i + 1);
      return n === 0 && i < 49 ? issueJson(i + 1) : { ...rest, state: 'unresolved' };
    });
    sendJson(res, 200, body, { link: link(n, n < 4) });
  });
  const skippedCounts: number[] = [];
  const { client } = makeClient(server.baseUrl, { onSkipped: (_e, n) => skippedCounts.push(n) });
  try {
    const skipped = new SkippedItems();
    const err = await rejection(listIssues(client, { query: '' }, { skipped }));
    assert.ok(err instanceof SentryApiError, `expected a SentryApiError, got ${String(err)}`);
    assert.equal(err.kind, 'parse');
    assert.equal(err.endpoint, '/organizations/{org}/issues/');
    // 51 of the first page's 100 are malformed: the first page already fails it.
    assert.equal(pages, 1, 'no page asked after the one that showed the shape');
    assert.match(
      err.message,
      /^Unexpected response from Sentry http:\/\/127\.0\.0\.1:\d+\/api\/0\/organizations\/acme\/issues\/: 51 of 100 items malformed, more than 50 %.*the first: \[49\]\.status should be a string, got nothing \(the field is absent\)$/,
    );
    assert.equal(skipped.count, 0, 'a failed call records no skipped items');
    assert.deepEqual(skippedCounts, []);
  } finally {
    await client.close();
  }
});
