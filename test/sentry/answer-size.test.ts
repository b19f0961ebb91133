/**
 * What one answer may cost: the scan that counts an answer's items and values before `JSON.parse`, the caps
 * it refuses past, the malformed items that are only counted past the first few, and the repeated groups
 * of aggregate answers counted once.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  AnswerScan,
  ITEM_CAPS,
  MAX_ANSWER_VALUES,
  MAX_PAGE_ITEMS,
  answerScan,
  measureAnswer,
} from '../../src/sentry/answer-size.js';
import { ENDPOINTS } from '../../src/sentry/endpoints.js';
import { ItemCheck, SKIP_EXAMPLES } from '../../src/sentry/json.js';
import type { ParseContext } from '../../src/sentry/json.js';
import { parseSessionGroups, parseSessions, parseStatsV2 } from '../../src/sentry/parse.js';
import { SentryApiError } from '../../src/sentry/errors.js';
import { waitUntil } from '../helpers/wait.js';
import { issueJson, listIssues, makeClient, rejection, startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

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

/** Why `endpoint` refuses `body` (fed in chunks of `chunk` bytes), or undefined. */
function refusal(
  endpoint: (typeof ENDPOINTS)[keyof typeof ENDPOINTS],
  body: string,
  chunk = 65_536,
): string | undefined {
  const scan = answerScan(endpoint);
  const bytes = Buffer.from(body);
  for (let at = 0; at < bytes.length; at += chunk) if (!scan.feed(bytes.subarray(at, at + chunk))) break;
  return scan.refusal();
}

test('fed in pieces, the scan counts as it does at once, wherever a piece ends', () => {
  const body = JSON.stringify({
    'grou"ps': [1, 2],
    groups: [{ a: 'x\\"],[' }, { b: ['é', '\\'] }, 'c"', null, { groups: [1, 2, 3] }],
    data: [1],
  });
  const cap = { at: 'groups', max: 1000, sentry: '' };
  const whole = measureAnswer(body, cap, 1e9);
  assert.deepEqual(whole, { items: 5, values: 19, over: undefined });
  const bytes = Buffer.from(body);
  for (let size = 1; size <= 7; size++) {
    const scan = new AnswerScan(cap, 1e9);
    for (let at = 0; at < bytes.length; at += size) scan.feed(bytes.subarray(at, at + size));
    assert.deepEqual({ items: scan.items, values: scan.values, over: scan.over }, whole, `pieces of ${size}`);
  }
});

test('an answer past its cap is refused: a page over 300 items, stats_v2 over 20,000 groups, any over a million values', () => {
  const issues = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => issueJson(i + 1)));
  assert.equal(refusal(ENDPOINTS.issues, issues(MAX_PAGE_ITEMS)), undefined);
  assert.equal(
    refusal(ENDPOINTS.issues, issues(MAX_PAGE_ITEMS + 1)),
    'the answer holds more than 300 items (Sentry sends at most 100 a page)',
  );
  // The probe's answer: ten megabytes of empty arrays.
  const tiny = `[${'[],'.repeat(3_500_000)}[]]`;
  assert.match(refusal(ENDPOINTS.issues, tiny) ?? '', /more than 300 items/);
  assert.match(refusal(ENDPOINTS.monitors, tiny) ?? '', /more than 300 items/);

  const stats = (n: number) =>
    JSON.stringify({
      groups: Array.from({ length: n }, (_, i) => ({
        by: { project: i, outcome: 'accepted' },
        totals: { 'sum(quantity)': 1 },
      })),
    });
  const statsCap = ITEM_CAPS[ENDPOINTS.statsV2]!.max;
  assert.equal(refusal(ENDPOINTS.statsV2, stats(statsCap)), undefined);
  assert.equal(
    refusal(ENDPOINTS.statsV2, stats(statsCap + 1)),
    'its "groups" holds more than 20000 items (Sentry sends at most 10,000 groups)',
  );

  // One item holding the values: the item cap does not see them, the value cap does.
  const nested = `[{"environments":[${'[],'.repeat(MAX_ANSWER_VALUES / 2)}[]]}]`;
  assert.equal(refusal(ENDPOINTS.monitors, nested), 'the answer holds more than 1000000 JSON values');
  assert.equal(refusal(ENDPOINTS.currentRelease, nested), 'the answer holds more than 1000000 JSON values');

  // What is not JSON is left to JSON.parse, which names it.
  assert.equal(refusal(ENDPOINTS.issues, `<html>${'[,'.repeat(2_000_000)}</html>`), undefined);
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
  // The page says how many groups it left out: the collector counts each as a metric group when it asks
  // whether Sentry cut the answer (a cut answer never passes as whole for a malformed group).
  const page = parseSessions(['sum(session)'])({ ...ctx(ENDPOINTS.sessions), check: new ItemCheck() }, body);
  assert.deepEqual([page.intervals, page.groups.length, page.leftOut], [1, 2, 2]);

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

test('over HTTP: sixty megabytes of empty arrays are refused after the first kilobytes, the rest never read, not retried', async () => {
  const total = 60 * 1024 * 1024;
  let written = 0;
  let closedEarly = false;
  const server = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(total) });
    const piece = Buffer.from('[],'.repeat(21_845)); // 65,535 bytes
    res.write('[');
    written = 1;
    const more = (): void => {
      while (written + piece.length < total - 3) {
        written += piece.length;
        if (!res.write(piece)) return void res.once('drain', more);
      }
      res.end(Buffer.from('[]]'.padStart(total - written, ' ')));
      written = total;
    };
    res.on('close', () => (closedEarly = written < total));
    more();
  });
  servers.push(server);
  const { client } = makeClient(server.baseUrl);
  try {
    const err = await rejection(listIssues(client, { query: '' }));
    assert.ok(err instanceof SentryApiError, String(err));
    assert.equal(err.kind, 'parse');
    assert.match(
      err.message,
      /^Unexpected response from Sentry http:\/\/127\.0\.0\.1:\d+\/api\/0\/organizations\/acme\/issues\/: the answer holds more than 300 items \(Sentry sends at most 100 a page\); refused after reading \d+ bytes/,
    );
    const read = Number(/after reading (\d+) bytes/.exec(err.message)?.[1]);
    assert.ok(read < 1024 * 1024, `${read} bytes read of ${total}`);
    assert.equal(server.hits.length, 1, 'not retried');
    await waitUntil('the server to see its answer cut short', () => closedEarly);
  } finally {
    await client.close();
  }
});
