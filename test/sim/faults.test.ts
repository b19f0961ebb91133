import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { buildUrl } from './helpers.js';

let sim: SentrySimulator;
before(async () => {
  sim = await startSimulator({ projects: 3, rateLimit: false });
});
after(() => sim.close());

type Outcome =
  | { kind: 'reply'; status: number; contentType: string; text: string }
  | { kind: 'error'; name: string; message: string };

async function call(path: string, timeoutMs = 5000): Promise<Outcome> {
  try {
    const res = await fetch(buildUrl(sim, path), {
      headers: { Authorization: `Bearer ${sim.token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return {
      kind: 'reply',
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      text: await res.text(),
    };
  } catch (err) {
    const e = err as Error;
    return { kind: 'error', name: e.name, message: e.message };
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

async function many(path: string, n: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  // Sequential in small batches: resets must not take healthy neighbours with them.
  for (let i = 0; i < n; i += 10)
    out.push(...(await Promise.all(Array.from({ length: 10 }, () => call(path)))));
  return out;
}

test('server errors, resets, malformed, HTML and wrong-type bodies appear at roughly their rates', async () => {
  sim.setFaults({
    serverErrorRate: 0.2,
    resetRate: 0.1,
    malformedRate: 0.1,
    htmlRate: 0.1,
    wrongTypeRate: 0.1,
  });
  try {
    const n = 300;
    const outcomes = await many('organizations/acme/issues/', n);
    const replies = outcomes.filter((o): o is Extract<Outcome, { kind: 'reply' }> => o.kind === 'reply');
    const errors = outcomes.filter((o) => o.kind === 'error');
    const serverErrors = replies.filter((r) => r.status >= 500);
    const html = replies.filter((r) => r.status === 200 && r.contentType.startsWith('text/html'));
    const json200 = replies.filter((r) => r.status === 200 && r.contentType.startsWith('application/json'));
    const malformed = json200.filter((r) => !isJson(r.text));
    const wrongType = json200.filter(
      (r) => isJson(r.text) && (JSON.parse(r.text) as Array<{ count: unknown }>)[0]?.count === 'abc',
    );
    const within = (count: number, rate: number) => count > n * rate * 0.4 && count < n * rate * 1.8;
    assert.ok(within(serverErrors.length, 0.2), `server errors: ${serverErrors.length}`);
    assert.ok(within(errors.length, 0.1), `resets: ${errors.length}`);
    assert.ok(within(malformed.length, 0.1), `malformed: ${malformed.length}`);
    assert.ok(within(html.length, 0.1), `html: ${html.length}`);
    assert.ok(within(wrongType.length, 0.1), `wrong type: ${wrongType.length}`);
    assert.ok(new Set(serverErrors.map((r) => r.status)).size >= 2, 'several 5xx statuses');
    assert.ok(
      serverErrors.some((r) => isJson(r.text)) && serverErrors.some((r) => !isJson(r.text)),
      'server errors come both with JSON bodies and with non-JSON bodies',
    );
    assert.equal(sim.counters().byStatus['0'], errors.length, 'resets are counted as status 0');
  } finally {
    sim.setFaults({});
  }
  const clean = await many('organizations/acme/issues/', 30);
  assert.ok(
    clean.every((o) => o.kind === 'reply' && o.status === 200 && isJson(o.text)),
    'setFaults({}) clears',
  );
});

test('faults can be restricted to some endpoints; wrong types per endpoint', async () => {
  sim.setFaults({ wrongTypeRate: 1, endpoints: ['/organizations/{org}/projects/'] });
  try {
    const projects = await call('organizations/acme/projects/');
    assert.ok(projects.kind === 'reply' && projects.status === 200, 'the projects call is answered with 200');
    assert.ok(!Array.isArray(JSON.parse(projects.text)), 'projects is not an array');
    const keys = await call('organizations/acme/project-keys/');
    assert.ok(keys.kind === 'reply' && Array.isArray(JSON.parse(keys.text)), 'other endpoints are healthy');
  } finally {
    sim.setFaults({});
  }
});

test('hangs delay the answer past a client timeout', async () => {
  sim.setFaults({ hangRate: 1, hangMs: 400 });
  try {
    const timedOut = await call('organizations/acme/projects/', 100);
    assert.equal(timedOut.kind, 'error');
    assert.equal((timedOut as { name: string }).name, 'TimeoutError');
    const patient = await call('organizations/acme/projects/', 5000);
    assert.ok(
      patient.kind === 'reply' && patient.status === 200,
      'a client that waits 5 s gets a 200 answer',
    );
  } finally {
    sim.setFaults({});
  }
});

test('rates outside 0..1 and unknown endpoint templates are refused', () => {
  assert.throws(() => sim.setFaults({ resetRate: 1.5 }), RangeError);
  assert.throws(
    () => sim.setFaults({ resetRate: 0.5, endpoints: ['/organizations/{org}/issues'] }),
    /unknown endpoint/,
  );
  assert.throws(() => sim.setRateLimit({ perSecond: 0, concurrent: 1 }), RangeError);
});
