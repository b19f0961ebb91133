/**
 * Performance data: the transactions of every project over the last 6 hours and their child spans, as
 * Sentry stores them in two places: the segment and child spans of the EAP store (`dataset=spans`) and the
 * transaction events of the SnQL `transactions` table (`dataset=transactions`, and `discover`). Generated
 * on first use (most simulators never serve the events endpoint) from a seed of its own.
 *
 * Each project's SDK samples its transactions at a rate of its own (1, 0.5, 0.25 or 0.1): the EAP store
 * keeps each span's sampling weight (1 ÷ rate), which Sentry's aggregates extrapolate by unless asked not
 * to; the transactions table keeps the stored events.
 *
 * Names include the hard cases of user data: a name of 10,000 characters with quotes, backslashes and
 * newlines, two long names alike for their first 250 characters, and a long one of emoji (surrogate pairs),
 * all busy enough to be among any project's busiest.
 */
import { HOUR } from './durations.js';
import type { SimProject, SpanTable } from './entities.js';
import { Prng } from './prng.js';

/** How far back the data goes from generation time. */
export const SPAN_HISTORY_MS = 6 * HOUR;

/**
 * Span statuses (relay's `SpanStatus`, as names). `ok`, `cancelled` and `unknown` are not failures
 * (NON_FAILURE_STATUS in src/sentry/search/events/constants.py; src/sentry/search/eap/spans/formulas.py
 * `failure_rate`).
 */
export const SPAN_STATUSES = [
  'ok',
  'cancelled',
  'unknown',
  'internal_error',
  'deadline_exceeded',
  'unavailable',
  'not_found',
  'permission_denied',
  'resource_exhausted',
  'unauthenticated',
  'invalid_argument',
  'aborted',
] as const;
/** Indexes of SPAN_STATUSES below this are not failures. */
export const FIRST_FAILURE_STATUS = 3;

const OPS = ['http.server', 'http.server', 'http.server', 'queue.task', 'ui.load', 'navigation', 'function'];
const ROUTES = [
  'GET /api/orders/{id}',
  'POST /api/checkout',
  'GET /api/products',
  'GET /api/users/{id}/profile',
  'PUT /api/cart/{id}',
  'DELETE /api/sessions/{id}',
  'GET /health',
  'POST /graphql',
  'GET /api/search',
  'POST /api/payments/{id}/capture',
  'GET /api/inventory/{sku}',
  'POST /webhooks/stripe',
  'GET /',
  'GET /dashboard',
];
const TASKS = ['tasks.send_email', 'tasks.rebuild_index', 'tasks.charge_card', 'tasks.sync_catalog'];
const PAGES = ['/checkout', '/product/:id', '/account/settings', '/search'];

/** The 10,000-character name: quotes, backslashes, newlines and a tab, all to be escaped or kept. */
function hugeName(): string {
  const unit = 'GET /api/"quoted"\\path\\\nnext line\t';
  let out = '';
  while (out.length < 10_000) out += unit;
  return out.slice(0, 10_000);
}

/** Two names alike for their first 250 characters: cut to one label size, they would collide but for the hash. */
function twinNames(): [string, string] {
  const prefix = `POST /api/v2/${'nested/'.repeat(40)}`.slice(0, 250);
  return [`${prefix}orders`, `${prefix}refunds`];
}

/** A name of 300 emoji: 600 UTF-16 code units, 300 characters. */
function emojiName(): string {
  return `GET /emoji/${'\u{1F680}'.repeat(300)}`;
}

interface NamePlan {
  name: string;
  op: string;
  /** Transactions per hour. */
  rate: number;
  medianMs: number;
  sigma: number;
  /** Chance of a failing status. */
  failure: number;
}

function namePlans(project: SimProject, rng: Prng): NamePlan[] {
  const count = rng.int(3, 14);
  const plans: NamePlan[] = [];
  const used = new Set<string>();
  const plan = (name: string, op: string, busy = false): void => {
    if (used.has(name)) return;
    used.add(name);
    plans.push({
      name,
      op,
      rate: busy ? rng.range(250, 400) : Math.exp(rng.next() * 5) * rng.range(0.5, 1.5),
      medianMs: Math.exp(rng.range(Math.log(5), Math.log(3000))),
      sigma: rng.range(0.3, 1.2),
      failure: rng.chance(0.6) ? rng.range(0, 0.02) : rng.range(0.02, 0.25),
    });
  };
  if (project.index === 0) {
    plan(hugeName(), 'http.server', true);
    const [a, b] = twinNames();
    plan(a, 'http.server', true);
    plan(b, 'http.server', true);
    plan(emojiName(), 'ui.load', true);
  }
  while (plans.length < count + (project.index === 0 ? 4 : 0)) {
    const op = rng.pick(OPS);
    const name =
      op === 'http.server'
        ? rng.pick(ROUTES)
        : op === 'queue.task'
          ? rng.pick(TASKS)
          : op === 'function'
            ? `${project.slug}.handlers.${rng.pick(['sync', 'report', 'cleanup', 'export'])}`
            : rng.pick(PAGES);
    plan(name, op);
  }
  return plans;
}

/** A standard normal draw (Box–Muller). */
function gaussian(rng: Prng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Milliseconds with microsecond precision, as span timestamps give them. */
function ms(value: number): number {
  return Math.max(0.001, Math.round(value * 1000) / 1000);
}

/**
 * The transactions (segment spans) and child spans of the projects over SPAN_HISTORY_MS before `now`,
 * sorted by time.
 */
export function generateSpans(projects: readonly SimProject[], now: number, seed: number): SpanTable {
  const rng = new Prng(seed);
  const names: string[] = [];
  const ops: string[] = [];
  const envNames: string[] = [];
  const envIndex = (name: string): number => {
    let i = envNames.indexOf(name);
    if (i === -1) i = envNames.push(name) - 1;
    return i;
  };
  const rows: Array<{
    time: number;
    project: number;
    name: number;
    env: number;
    duration: number;
    status: number;
    segment: boolean;
    weight: number;
  }> = [];
  const hours = SPAN_HISTORY_MS / HOUR;
  for (const project of projects) {
    const sampleRate = rng.pick([1, 1, 0.5, 0.25, 0.1]);
    const weight = 1 / sampleRate;
    const envs = project.visibleEnvironments;
    for (const plan of namePlans(project, rng)) {
      const nameIndex = names.push(plan.name) - 1;
      ops.push(plan.op);
      const total = Math.round(plan.rate * hours * rng.range(0.8, 1.2));
      for (let k = 0; k < total; k++) {
        const time = now - SPAN_HISTORY_MS + Math.floor(rng.next() * SPAN_HISTORY_MS);
        // Events sent without an environment: none in a project without any, a few in the others.
        const env = envs.length === 0 || rng.chance(0.04) ? -1 : envIndex(rng.pick(envs));
        const duration = ms(plan.medianMs * Math.exp(plan.sigma * gaussian(rng)));
        let status = 0;
        if (rng.chance(plan.failure)) status = rng.int(FIRST_FAILURE_STATUS, SPAN_STATUSES.length - 1);
        else if (rng.chance(0.03)) status = rng.int(1, 2);
        rows.push({
          time,
          project: project.index,
          name: nameIndex,
          env,
          duration,
          status,
          segment: true,
          weight,
        });
        for (let c = rng.int(0, 2); c > 0; c--) {
          rows.push({
            time,
            project: project.index,
            name: nameIndex,
            env,
            duration: ms(duration * rng.range(0.05, 0.9)),
            status: 0,
            segment: false,
            weight,
          });
        }
      }
    }
  }
  rows.sort((a, b) => a.time - b.time);
  const n = rows.length;
  const table: SpanTable = {
    time: new Float64Array(n),
    project: new Int32Array(n),
    name: new Int32Array(n),
    env: new Int32Array(n),
    durationMs: new Float64Array(n),
    status: new Int32Array(n),
    segment: new Uint8Array(n),
    weight: new Float64Array(n),
    length: n,
    names,
    ops,
    envNames,
  };
  rows.forEach((r, i) => {
    table.time[i] = r.time;
    table.project[i] = r.project;
    table.name[i] = r.name;
    table.env[i] = r.env;
    table.durationMs[i] = r.duration;
    table.status[i] = r.status;
    table.segment[i] = r.segment ? 1 : 0;
    table.weight[i] = r.weight;
  });
  return table;
}

/**
 * ClickHouse's `quantile(level)` over fewer values than its reservoir holds (8192): the sorted values
 * interpolated linearly at `level × (n − 1)` (ReservoirSampler::quantileInterpolated). `sorted` ascending;
 * null for none (`quantileIfOrNull`).
 */
export function quantile(sorted: readonly number[], level: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const index = Math.max(0, Math.min(n - 1, level * (n - 1)));
  const lo = Math.floor(index);
  const hi = Math.ceil(index);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? 0;
  return a + (b - a) * (index - lo);
}

/** snuba's `round(x, 9)` of the EAP percentiles (resolvers/common/aggregation.py). */
export function round9(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
