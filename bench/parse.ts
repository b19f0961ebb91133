/**
 * Parsing Sentry's issue pages: the hand-written parser (src/sentry/parse.ts) against schema libraries that
 * infer types from a schema (valibot, zod 4, TypeBox), on the pages of the 1,000-project benchmark
 * organization (600 pages of 100 issues, as the simulator serializes them). Each page is JSON.parse'd and
 * turned into the same typed values; reported: median and p99 per page, and the total, over several rounds,
 * each beside the hand-written parser measured in the same run.
 *
 *   npm run bench:parse
 *
 * The libraries are dev dependencies for this comparison only; the exporter keeps its hand-written parsers
 * (docs/development.md, "Validating Sentry's JSON", has the figures and the reasoning).
 */
import { performance } from 'node:perf_hooks';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import * as v from 'valibot';
import { z } from 'zod';
import { parseIssues } from '../src/sentry/parse.js';
import { generateDataset } from '../sim/dataset.js';
import { issueJson } from '../sim/serialize.js';

const now = Date.now();
const data = generateDataset({
  seed: 1,
  projects: 1000,
  environmentsPerProject: 5,
  issuesPerProject: 60,
  org: 'acme',
  now,
});
const pages: string[] = [];
for (let i = 0; i < data.issues.length && pages.length < 600; i += 100) {
  const items = data.issues.slice(i, i + 100).map((issue) => {
    const env = issue.envs[0];
    return issueJson(
      { issue, count: env?.count ?? 0, userCount: env?.userCount ?? 0, environment: env?.env ?? null },
      data,
      now,
    );
  });
  pages.push(JSON.stringify(items));
}

type Parser = (json: unknown) => unknown[];
const ctx = { endpoint: '/organizations/{org}/issues/' };
const parsers: Array<[string, Parser]> = [['hand-written', (json) => parseIssues(ctx, json)]];

{
  const count = v.union([
    v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number)),
    v.pipe(v.number(), v.integer(), v.minValue(0)),
  ]);
  const issue = v.object({
    id: v.string(),
    project: v.object({ slug: v.string() }),
    logger: v.nullish(v.string(), null),
    level: v.string(),
    status: v.string(),
    platform: v.nullish(v.string(), null),
    isUnhandled: v.optional(v.boolean(), false),
    count,
    firstSeen: v.nullish(v.string(), null),
    lastSeen: v.nullish(v.string(), null),
  });
  const list = v.array(issue);
  parsers.push([
    'valibot 1',
    (json) => v.parse(list, json).map((i) => ({ ...i, projectSlug: i.project.slug })),
  ]);
}

{
  const count = z.union([z.string().regex(/^\d+$/).transform(Number), z.number().int().nonnegative()]);
  const issue = z.object({
    id: z.string(),
    project: z.object({ slug: z.string() }),
    logger: z
      .string()
      .nullish()
      .transform((x) => x ?? null),
    level: z.string(),
    status: z.string(),
    platform: z
      .string()
      .nullish()
      .transform((x) => x ?? null),
    isUnhandled: z.boolean().default(false),
    count,
    firstSeen: z
      .string()
      .nullish()
      .transform((x) => x ?? null),
    lastSeen: z
      .string()
      .nullish()
      .transform((x) => x ?? null),
  });
  const list = z.array(issue);
  parsers.push(['zod 4', (json) => list.parse(json).map((i) => ({ ...i, projectSlug: i.project.slug }))]);
}

{
  const nullableString = Type.Optional(Type.Union([Type.String(), Type.Null()]));
  const issue = Type.Object({
    id: Type.String(),
    project: Type.Object({ slug: Type.String() }),
    logger: nullableString,
    level: Type.String(),
    status: Type.String(),
    platform: nullableString,
    isUnhandled: Type.Optional(Type.Boolean()),
    count: Type.Union([Type.String({ pattern: '^[0-9]+$' }), Type.Integer({ minimum: 0 })]),
    firstSeen: nullableString,
    lastSeen: nullableString,
  });
  const check = TypeCompiler.Compile(Type.Array(issue));
  parsers.push([
    'TypeBox 0.34 (compiled check + mapping)',
    (json) => {
      if (!check.Check(json)) throw new Error('invalid');
      return json.map((i) => ({
        id: i.id,
        projectSlug: i.project.slug,
        logger: i.logger ?? null,
        level: i.level,
        status: i.status,
        platform: i.platform ?? null,
        isUnhandled: i.isUnhandled ?? false,
        count: Number(i.count),
        firstSeen: i.firstSeen ?? null,
        lastSeen: i.lastSeen ?? null,
      }));
    },
  ]);
}

const ROUNDS = 9;
const gc = (globalThis as { gc?: () => void }).gc;

/** One round: every page parsed once; per-page times and the round's total. */
function round(parse: Parser): { perPage: number[]; total: number } {
  gc?.();
  const perPage: number[] = [];
  const t0 = performance.now();
  let items = 0;
  for (const page of pages) {
    const p0 = performance.now();
    items += parse(JSON.parse(page)).length;
    perPage.push(performance.now() - p0);
  }
  const total = performance.now() - t0;
  if (items !== pages.length * 100) throw new Error('item count differs');
  return { perPage, total };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]!;

// Rounds interleave the parsers (one round each, in turn) so that machine noise and GC hit all alike; the
// first round of each is a warm-up.
const active = parsers;
const perPage = new Map<string, number[]>(active.map(([n]) => [n, []]));
const totals = new Map<string, number[]>(active.map(([n]) => [n, []]));
for (let r = 0; r <= ROUNDS; r++) {
  for (const [name, parse] of active) {
    const { perPage: pp, total } = round(parse);
    if (r === 0) continue;
    perPage.get(name)!.push(...pp);
    totals.get(name)!.push(total);
  }
}
const baseMedian = median(perPage.get('hand-written')!);
const baseTotal = median(totals.get('hand-written')!);
console.log(
  `${pages.length} pages, ${pages.length * 100} issues; ${ROUNDS} interleaved rounds after a warm-up; JSON.parse included${gc ? '; GC before each round' : ' (run with node --expose-gc for a GC before each round)'}`,
);
console.log('parser | median ms/page | vs hand-written | p99 ms/page | median total ms | vs hand-written');
for (const [name] of active) {
  const m = median(perPage.get(name)!);
  const t = median(totals.get(name)!);
  console.log(
    `${name} | ${m.toFixed(3)} | ${(m / baseMedian).toFixed(2)}× | ${p99(perPage.get(name)!).toFixed(3)} | ${t.toFixed(0)} | ${(t / baseTotal).toFixed(2)}×`,
  );
}
