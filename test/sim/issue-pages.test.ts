/**
 * The issue stream's pages as Sentry's search builds them, and the faults of a long-running deployment.
 *
 * Sentry: src/sentry/api/paginator.py (SequencePaginator, MAX_HITS_LIMIT), src/sentry/search/snuba/
 * executors.py (PostgresSnubaQueryExecutor: `HAVING score <= cursor.value`, scores truncated to the
 * second, the `results="true"` guess for a full page, X-Hits from `calculate_hits`), src/sentry/api/base.py
 * (`build_cursor_link` echoes `request.GET.urlencode()`). See docs/sentry-api.md, Part 1 §0.1 and §3.3.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { paginateByScore } from '../../sim/pagination.js';
import { fetchUrl, get, parseLink } from './helpers.js';

let sim: SentrySimulator;
before(async () => {
  sim = await startSimulator({
    seed: 91,
    projects: 4,
    environmentsPerProject: 2,
    issuesPerProject: 300,
    rateLimit: false,
  });
});
after(() => sim.close());

const BASE = 'http://sentry.example/api/0/organizations/acme/issues/';
const Q = new URLSearchParams([['query', 'is:unresolved']]);

/** Rows of a page in `scores` (descending) for a cursor text, as the simulator serves them. */
function page(scores: number[], cursor: string | undefined, limit: number) {
  const c = cursor === undefined ? undefined : cursor.split(':').map(Number);
  const at = paginateByScore(
    scores,
    c === undefined ? undefined : { value: c[0]!, offset: c[1]!, isPrev: c[2] === 1 },
    limit,
    BASE,
    Q,
  );
  const entries = parseLink(at.link);
  const next = entries.find((e) => e.rel === 'next')!;
  const prev = entries.find((e) => e.rel === 'previous')!;
  return { lo: at.lo, hi: at.hi, next, prev };
}

test("the cursor is the score of the next page's first row and the ties before it (SequencePaginator)", () => {
  // Scores, descending: 9000 9000 | 8000 8000 8000 | 7000
  const scores = [9000, 9000, 8000, 8000, 8000, 7000];
  const first = page(scores, undefined, 3);
  assert.deepEqual([first.lo, first.hi], [0, 3]);
  assert.equal(first.next.cursor, '8000:1:0', 'one row scoring 8000 was on this page');
  assert.equal(first.next.results, true);
  assert.equal(first.prev.results, false);
  const second = page(scores, first.next.cursor, 3);
  assert.deepEqual([second.lo, second.hi], [3, 6]);
  assert.equal(second.prev.results, true, 'with a cursor, previous always says results="true"');
  // A full page, and more rows than a page score at or below 8000: Sentry guesses there is more.
  assert.equal(second.next.results, true);
  const third = page(scores, second.next.cursor, 3);
  assert.equal(third.hi - third.lo, 0, 'the guess was wrong: an empty last page');
  assert.equal(third.next.results, false);
});

test('a row inserted among the ties before the cursor makes the next page repeat one row', () => {
  const before = [9000, 9000, 8000, 8000, 8000, 7000];
  const first = page(before, undefined, 3); // rows 0..2: 9000 9000 8000(a)
  // A new issue first seen in the same second, with a higher id: it sorts first among the 8000s.
  const after = [9000, 9000, 8000, 8000, 8000, 8000, 7000];
  const second = page(after, first.next.cursor, 3);
  // Position = first row <= 8000 (index 2, the new row) + 1 tie: index 3 is the row (a) already listed.
  assert.deepEqual([second.lo, second.hi], [3, 6]);
});

test('rows that move above the cursor while a client pages are skipped, not repeated', () => {
  const before = [9000, 8000, 7000, 6000, 5000, 4000];
  const first = page(before, undefined, 3);
  assert.equal(first.next.cursor, '6000:0:0');
  // The row scoring 5000 gets a new event (sort=date): it now scores 9500 and is above the cursor.
  const after = [9500, 9000, 8000, 7000, 6000, 4000];
  const second = page(after, first.next.cursor, 3);
  assert.deepEqual(after.slice(second.lo, second.hi), [6000, 4000], 'the moved row is not on any later page');
});

test('a full page announces more when more rows score at or below the cursor, though the next page may be empty', () => {
  // 4 rows with the same score; a page of 2 starting after 2 ties: rows 2..3, and then nothing.
  const scores = [5000, 5000, 5000, 5000];
  const second = page(scores, '5000:2:0', 2);
  assert.deepEqual([second.lo, second.hi], [2, 4]);
  assert.equal(
    second.next.results,
    true,
    "the executor's guess: a full page and more than a page at or below",
  );
  const third = page(scores, second.next.cursor, 2);
  assert.equal(third.hi - third.lo, 0);
  assert.equal(third.next.results, false);
});

test('issue pages over HTTP: keyset cursors, X-Hits capped at 1000 with X-Max-Hits, none for an empty result', async () => {
  const reply = await get(sim, 'organizations/acme/issues/', {
    query: '',
    statsPeriod: '90d',
    sort: 'new',
    project: -1,
  });
  const issues = reply.json as Array<{ firstSeen: string }>;
  const next = parseLink(reply.headers.get('link')).find((e) => e.rel === 'next');
  assert.ok(next?.results, 'the first issues page links a next page with results="true"');
  const firstOfNext = (await fetchUrl(next.url, sim.token)).json as Array<{ firstSeen: string }>;
  const [value, offset] = next.cursor.split(':').map(Number);
  assert.equal(value, Math.floor(Date.parse(firstOfNext[0]!.firstSeen) / 1000) * 1000);
  assert.ok(offset! >= 0, `the next cursor's offset is not negative: ${next.cursor}`);
  assert.equal(issues.length, 100);
  assert.equal(reply.headers.get('x-max-hits'), '1000');
  assert.equal(reply.headers.get('x-hits'), '1000', 'more than 1000 issues: capped');

  const none = await get(sim, 'organizations/acme/issues/', { query: 'is:unresolved firstSeen:+3650d' });
  assert.deepEqual(none.json, []);
  assert.equal(none.headers.get('x-hits'), null);
  assert.equal(none.headers.get('x-max-hits'), null);
});

test('faults: overlapping pages, endless pages, no X-Hits, a proxy refusing long request lines', async () => {
  const query = { query: 'is:unresolved', project: -1, sort: 'new' };
  const first = await get(sim, 'organizations/acme/issues/', query);
  const firstIds = (first.json as Array<{ id: string }>).map((i) => i.id);
  const nextUrl = parseLink(first.headers.get('link')).find((e) => e.rel === 'next')!.url;
  try {
    sim.setFaults({ overlapItems: 20 });
    const overlapped = ((await fetchUrl(nextUrl, sim.token)).json as Array<{ id: string }>).map((i) => i.id);
    assert.deepEqual(overlapped.slice(0, 20), firstIds.slice(80), 'the next page repeats the last 20');

    for (const mode of ['fresh', 'repeat', 'empty'] as const) {
      sim.setFaults({ endlessPages: mode, omitHits: mode === 'fresh' });
      let url = nextUrl;
      const seen = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const reply = await fetchUrl(url, sim.token);
        const ids = (reply.json as Array<{ id: string }>).map((x) => x.id);
        if (mode === 'repeat') assert.deepEqual(ids, firstIds);
        if (mode === 'empty') assert.deepEqual(ids, []);
        if (mode === 'fresh') {
          assert.equal(ids.length, 100);
          for (const id of ids)
            assert.ok(
              !seen.has(id) && !firstIds.includes(id),
              `issue ${id} of a fresh page was neither seen before nor on the first page`,
            );
          assert.equal(reply.headers.get('x-hits'), null);
        }
        for (const id of ids) seen.add(id);
        const next = parseLink(reply.headers.get('link')).find((e) => e.rel === 'next')!;
        assert.equal(next.results, true, `${mode}: always more`);
        assert.notEqual(next.url, url);
        url = next.url;
      }
    }

    sim.setFaults({ maxUrlBytes: 200 });
    const long = await get(sim, 'organizations/acme/issues/', { query: 'x'.repeat(300) });
    assert.equal(long.status, 414);
    assert.match(long.text, /414 Request-URI Too Large/);
    assert.throws(() => sim.setFaults({ overlapItems: -1 }), /overlapItems/);
    assert.throws(() => sim.setFaults({ endlessPages: 'forever' as 'fresh' }), /endlessPages/);
  } finally {
    sim.setFaults({});
  }
});

test('tokens: a rotated one is accepted, a revoked one refused with 401 Invalid token', async () => {
  const path = 'organizations/acme/projects/';
  try {
    sim.acceptTokens([sim.token, 'second-token']);
    assert.equal((await get(sim, path, {}, 'second-token')).status, 200);
    assert.equal((await get(sim, path)).status, 200);
    sim.acceptTokens(['second-token']);
    const revoked = await get(sim, path);
    assert.equal(revoked.status, 401);
    assert.deepEqual(revoked.json, { detail: 'Invalid token' });
    assert.equal((await get(sim, path, {}, 'second-token')).status, 200);
  } finally {
    sim.acceptTokens([sim.token]);
  }
});
