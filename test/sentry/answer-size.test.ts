/**
 * What one answer may cost: the scan that counts an answer's items and values before `JSON.parse`, the caps
 * it refuses past, the malformed items that are only counted past the first few, and the repeated groups
 * of aggregate answers counted once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ITEM_CAPS,
  MAX_ANSWER_VALUES,
  MAX_PAGE_ITEMS,
  checkAnswerSize,
  measureAnswer,
} from '../../src/sentry/answer-size.js';
import { ENDPOINTS } from '../../src/sentry/endpoints.js';
import { SentryApiError } from '../../src/sentry/errors.js';
import { ItemCheck, SKIP_EXAMPLES } from '../../src/sentry/json.js';
import type { ParseContext } from '../../src/sentry/json.js';
import { parseSessionGroups, parseStatsV2 } from '../../src/sentry/parse.js';
import { issueJson } from './helpers.js';

const list = { at: '', max: 1000, sentry: '' };
const groups = { at: 'groups', max: 1000, sentry: '' };

test('the scan counts the items of the list, wherever its brackets and quotes are', () => {
  const count = (body: string, cap = list) => measureAnswer(body, cap, 1e9).items;
  assert.equal(count('[]'), 0);
  assert.equal(count(' \n[ ] '), 0);
  assert.equal(count('[[],[],[]]'), 3);
  assert.equal(count('[{"a":[1,2,3]},{"b":{"c":[{},{}]}}]'), 2);
  assert.equal(count('["a,b","[c]","\\"]",""]'), 4, 'commas, brackets and escaped quotes inside strings');
  assert.equal(count('["\\\\",1]'), 2, 'an escaped backslash before the closing quote');
  assert.equal(count('[1, 2 ,3]'), 3);
  assert.equal(count('[null]'), 1);
  // A list under a key of the body object.
  assert.equal(count('{"groups":[{"by":{}},{"by":{}}],"intervals":["x","y","z"]}', groups), 2);
  assert.equal(count('{"intervals":[1,2,3,4],"groups":[{}],"x":[1,2]}', groups), 1);
  assert.equal(count('{"a":{"groups":[1,2,3]},"groups":[]}', groups), 0, 'only the key of the body object');
  assert.equal(count('{"groupsX":[1,2],"groups":[1]}', groups), 1);
  assert.equal(count('{"groups":"[1,2,3]"}', groups), 0);
  assert.equal(count('{"data":[{"count()":1}],"meta":{"fields":{}}}', { ...groups, at: 'data' }), 1);
  // Values: containers and separators.
  assert.equal(measureAnswer('[[],[],[]]', list, 1e9).values, 6);
  assert.equal(measureAnswer('{"a":"b"}', undefined, 1e9).values, 1);
});

test('the scan stops as soon as a cap is passed', () => {
  const body = `[${'[],'.repeat(5000)}[]]`;
  assert.deepEqual(measureAnswer(body, { at: '', max: 10, sentry: '' }, 1e9), {
    items: 11,
    values: 21,
    over: 'items',
  });
  assert.equal(measureAnswer(body, { at: '', max: 1e6, sentry: '' }, 100).over, 'values');
  assert.equal(measureAnswer(body, { at: '', max: 5001, sentry: '' }, 1e9).over, undefined);
});

const ctx = (endpoint: string): ParseContext => ({
  endpoint,
  url: `https://sentry.example/api/0${endpoint.replace('{org}', 'acme')}`,
});

function refusal(endpoint: (typeof ENDPOINTS)[keyof typeof ENDPOINTS], body: string): SentryApiError {
  try {
    checkAnswerSize(ctx(endpoint), endpoint, body);
  } catch (err) {
    assert.ok(err instanceof SentryApiError, String(err));
    return err;
  }
  assert.fail(`expected ${endpoint} to refuse ${body.length} bytes`);
}

test('an answer past its cap is refused unread: a page over 300 items, stats_v2 over 20,000 groups, any over a million values', () => {
  const issues = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => issueJson(i + 1)));
  checkAnswerSize(ctx(ENDPOINTS.issues), ENDPOINTS.issues, issues(MAX_PAGE_ITEMS));
  const page = refusal(ENDPOINTS.issues, issues(MAX_PAGE_ITEMS + 1));
  assert.equal(page.kind, 'parse');
  assert.equal(page.endpoint, ENDPOINTS.issues);
  assert.match(
    page.message,
    /^Unexpected response from Sentry https:\/\/sentry\.example\/api\/0\/organizations\/acme\/issues\/: the answer holds more than 300 items \(Sentry sends at most 100 a page\); refused unread \(\d+ bytes\)/,
  );
  // The probe's answer: ten megabytes of empty arrays.
  const tiny = `[${'[],'.repeat(3_500_000)}[]]`;
  assert.match(refusal(ENDPOINTS.issues, tiny).message, /more than 300 items/);
  assert.match(refusal(ENDPOINTS.monitors, tiny).message, /more than 300 items/);

  const stats = (n: number) =>
    JSON.stringify({
      groups: Array.from({ length: n }, (_, i) => ({
        by: { project: i, outcome: 'accepted' },
        totals: { 'sum(quantity)': 1 },
      })),
    });
  const statsCap = ITEM_CAPS[ENDPOINTS.statsV2]!.max;
  checkAnswerSize(ctx(ENDPOINTS.statsV2), ENDPOINTS.statsV2, stats(statsCap));
  assert.match(
    refusal(ENDPOINTS.statsV2, stats(statsCap + 1)).message,
    /its "groups" holds more than 20000 items \(Sentry sends at most 10,000 groups\)/,
  );

  // One item holding the values: the item cap does not see them, the value cap does.
  const nested = `[{"environments":[${'[],'.repeat(MAX_ANSWER_VALUES / 2)}[]]}]`;
  assert.match(refusal(ENDPOINTS.monitors, nested).message, /the answer holds more than 1000000 JSON values/);
  assert.match(refusal(ENDPOINTS.currentRelease, nested).message, /more than 1000000 JSON values/);

  // What is not JSON is left to JSON.parse, which names it.
  checkAnswerSize(ctx(ENDPOINTS.issues), ENDPOINTS.issues, `<html>${','.repeat(2_000_000)}</html>`);
});

test('past the first few, a malformed item is only counted: no error object each', () => {
  const check = new ItemCheck();
  const n = 200_000;
  const body = {
    groups: Array.from({ length: n }, (_, i) => ({
      by: { project: i + 1, outcome: 'accepted' },
      totals: { 'sum(quantity)': '12' },
    })),
  };
  const parse = parseStatsV2(['project', 'outcome']);
  assert.deepEqual(parse({ ...ctx(ENDPOINTS.statsV2), check }, body).groups, []);
  assert.equal(check.items, n);
  assert.equal(check.malformed, n);
  assert.equal(check.examples.length, SKIP_EXAMPLES);
  assert.match(
    check.examples[0]!.message,
    /stats_v2\/: groups\[0\]\.totals\.sum\(quantity\) should be a non-negative integer, got "12"$/,
  );
  assert.match(check.examples[2]!.message, /groups\[2\]\.totals/);
});

test('aggregate answers: a malformed group is left out with a check, and a repeated group counts once', () => {
  const sessions = parseSessionGroups(['sum(session)']);
  const group = (project: number, status: string, n: unknown) => ({
    by: { project, environment: 'prod', 'session.status': status },
    totals: { 'sum(session)': n },
    series: { 'sum(session)': [n] },
  });
  const body = {
    intervals: ['2024-05-01T00:00:00Z'],
    groups: [
      group(1, 'healthy', 10),
      group(1, 'crashed', -1),
      group(2, 'healthy', 5),
      group(2, 'healthy', 5),
    ],
  };
  // Without a check one malformed group fails the answer, as before.
  assert.throws(
    () => sessions(ctx(ENDPOINTS.sessions), body),
    /groups\[1\]\.totals\["sum\(session\)"\] should be a non-negative integer, got number -1/,
  );
  const c: ParseContext = { ...ctx(ENDPOINTS.sessions), check: new ItemCheck() };
  assert.deepEqual(
    sessions(c, body).map((g) => [g.project, g.status, g.totals['sum(session)']]),
    [
      ['1', 'healthy', 10],
      ['2', 'healthy', 5],
    ],
  );
  assert.equal(c.check?.malformed, 1);
  assert.equal(c.repeated, 1, 'the repeated group');

  const stats = parseStatsV2(['project', 'category', 'outcome', 'reason']);
  const s: ParseContext = ctx(ENDPOINTS.statsV2);
  const g = (project: number, reason: string | null, n: number) => ({
    by: { project, category: 'error', outcome: 'rate_limited', reason },
    totals: { 'sum(quantity)': n },
  });
  const out = stats(s, { groups: [g(1, null, 3), g(1, 'none', 3), g(1, 'quota', 4), g(2, 'quota', 1)] });
  assert.deepEqual(
    out.groups.map((x) => [x.project, x.reason, x.quantity]),
    [
      ['1', 'none', 3],
      ['1', 'quota', 4],
      ['2', 'quota', 1],
    ],
  );
  assert.equal(s.repeated, 1);
});
