/**
 * The simulated organization: projects, environments, issues, client keys and usage outcomes, generated once
 * from a seed so that tests, the demo and benchmarks see the same data for the same options.
 *
 * Issue ages are relative to the clock at generation time and are kept at least 10 minutes away from the 1h,
 * 24h and 14d boundaries, so the ground truth is stable for a test that runs for several minutes.
 */
import { DAY, HOUR, MINUTE, isoMs } from './durations.js';
import type {
  Dataset,
  MonitorRelease,
  OutcomeTable,
  SimEnvironment,
  SimIssue,
  SimIssueEnv,
  SimKey,
  SimProject,
  SpanTable,
  SimTeam,
} from './entities.js';
import { generateMonitors } from './monitors.js';
import { Prng } from './prng.js';
import { generateSessions } from './sessions.js';
import { generateSpans } from './spans.js';

/** Sentry's outcomes (src/sentry/utils/outcomes.py `Outcome`, api_name), indexed as stored. */
export const OUTCOMES = [
  'accepted',
  'filtered',
  'rate_limited',
  'invalid',
  'abuse',
  'client_discard',
  'cardinality_limited',
] as const;

/**
 * Data categories as outcomes store them (relay `DataCategory::name`). `default` and `security` are stored
 * apart from `error`; stats_v2 reports (and filters) the three as `error`.
 */
export const CATEGORIES = [
  'error',
  'default',
  'security',
  'transaction',
  'transaction_indexed',
  'span',
  'span_indexed',
  'attachment',
  'replay',
  'profile',
  'profile_chunk',
  'profile_duration',
  'profile_duration_ui',
  'monitor',
  'log_item',
  'log_byte',
  'feedback',
  'uptime',
  'metric_bucket',
] as const;

export interface DatasetOptions {
  seed: number;
  projects: number;
  environmentsPerProject: number;
  /** The last this many projects have no environment; default 1 (with 2 projects or more). */
  projectsWithoutEnvironments?: number;
  issuesPerProject: number;
  /** Multiplies the (outcome, reason) pairs per project and category; 1 by default. */
  outcomeVariety?: number;
  org: string;
  now: number;
  /** Cron monitors in the organization (spread over the projects); default none. */
  monitors?: number;
  /** Default 'current'. */
  monitorRelease?: MonitorRelease;
  /** Projects deleted two days ago, their outcomes kept; default 1 (with 2 projects or more). */
  deletedProjects?: number;
}

/** The organization's teams; the token's user is a member of the first three. */
const TEAMS: SimTeam[] = [1, 2, 3, 4, 5].map((n) => ({
  id: String(9 + n),
  name: `Team ${n}`,
  slug: `team-${n}`,
}));
const MEMBER_TEAMS = new Set(['team-1', 'team-2', 'team-3']);
/** Days before generation of a deleted project's last outcomes. */
const DELETED_DAYS_AGO = 2;

const PROJECT_NAMES = [
  'checkout-api',
  'web-frontend',
  'payments-service',
  'inventory-worker',
  'mobile-ios',
  'mobile-android',
  'search-indexer',
  'auth-gateway',
  'notifications',
  'billing-cron',
  'admin-portal',
  'recommendations',
  'shipping-api',
  'analytics-etl',
  'media-transcoder',
  'graphql-edge',
  'support-widget',
  'pricing-engine',
  'catalog-sync',
  'fraud-detector',
];

const PLATFORMS = [
  'python',
  'javascript-react',
  'node',
  'go',
  'java',
  'ruby',
  'php',
  'csharp',
  'python-django',
];

const ENVIRONMENT_POOL = [
  'production',
  'staging',
  'development',
  'qa',
  'canary',
  'sandbox',
  'preview',
  'perf',
  'demo',
  'uat',
  'beta',
  'integration',
];

const LOGGERS = ['root', 'django.request', 'celery.worker', 'console', 'app.http', 'sqlalchemy.engine'];

const ERROR_KINDS: Array<{ type: string; value: string; culprit: string }> = [
  { type: 'TypeError', value: "Cannot read properties of undefined (reading 'id')", culprit: 'renderCart' },
  { type: 'ValueError', value: 'invalid literal for int() with base 10', culprit: 'orders.views in create' },
  { type: 'ConnectionError', value: 'Connection refused by upstream', culprit: 'clients.http in request' },
  { type: 'TimeoutError', value: 'Operation timed out after 30000ms', culprit: 'db.pool in acquire' },
  { type: 'KeyError', value: "'customer_id'", culprit: 'billing.tasks in charge' },
  { type: 'NullPointerException', value: 'user.getAddress() is null', culprit: 'com.acme.ShippingService' },
  { type: 'RangeError', value: 'Maximum call stack size exceeded', culprit: 'utils/tree in walk' },
  { type: 'IntegrityError', value: 'duplicate key value violates unique constraint', culprit: 'models.save' },
  { type: 'PermissionError', value: 'Access denied for bucket media-uploads', culprit: 'storage.s3 in put' },
  { type: 'SyntaxError', value: 'Unexpected token < in JSON at position 0', culprit: 'api/client in parse' },
];

/** Margin kept between any generated age and the 1h / 24h / 14d boundaries. */
const BOUNDARY_MARGIN = 10 * MINUTE;
const BOUNDARIES = [HOUR, DAY, 14 * DAY];

/** Picks a firstSeen age (ms before generation) in one of four bands, never near a boundary. */
function pickAge(rng: Prng, withinFourteenDays: boolean): number {
  const r = rng.next();
  const band = withinFourteenDays ? r * 0.85 : r;
  if (band < 0.12) return rng.range(MINUTE, HOUR - BOUNDARY_MARGIN - MINUTE);
  if (band < 0.42) return rng.range(HOUR + BOUNDARY_MARGIN + MINUTE, DAY - BOUNDARY_MARGIN - MINUTE);
  if (band < 0.85) return rng.range(DAY + BOUNDARY_MARGIN + MINUTE, 14 * DAY - BOUNDARY_MARGIN - MINUTE);
  return rng.range(14 * DAY + BOUNDARY_MARGIN + MINUTE, 30 * DAY);
}

/** A lastSeen age no larger than the firstSeen age, moved away from boundaries (statsPeriod filters on it). */
function pickLastSeenAge(rng: Prng, firstAge: number): number {
  let age = rng.chance(0.4) ? rng.range(0, Math.min(firstAge, 30 * MINUTE)) : rng.range(0, firstAge);
  for (const boundary of BOUNDARIES) {
    if (Math.abs(age - boundary) <= BOUNDARY_MARGIN) age = boundary - BOUNDARY_MARGIN - MINUTE;
  }
  return Math.max(0, Math.floor(age));
}

function pickLevel(rng: Prng): SimIssue['level'] {
  const r = rng.next();
  if (r < 0.65) return 'error';
  if (r < 0.85) return 'warning';
  if (r < 0.92) return 'fatal';
  return 'info';
}

function pickStatus(rng: Prng): SimIssue['status'] {
  const r = rng.next();
  if (r < 0.75) return 'unresolved';
  if (r < 0.9) return 'resolved';
  return 'ignored';
}

function projectSlug(index: number): string {
  const base = PROJECT_NAMES[index % PROJECT_NAMES.length] ?? 'project';
  const round = Math.floor(index / PROJECT_NAMES.length);
  return round === 0 ? base : `${base}-${round + 1}`;
}

function titleCase(slug: string): string {
  return slug
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join(' ');
}

function environmentNames(count: number, rng: Prng): string[] {
  const pool = [...ENVIRONMENT_POOL];
  for (let i = pool.length; i < count; i++) pool.push(`env-${i + 1}`);
  // Most projects of an organization share its standard environment names (production, staging, ...);
  // some have names of their own.
  if (rng.chance(0.85)) return pool.slice(0, count);
  const names: string[] = [];
  if (count > 0 && rng.chance(0.8)) names.push('production');
  while (names.length < count) {
    const name = rng.pick(pool);
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Heavy-tailed event count: most issues are small, a few are large. */
function eventCount(rng: Prng): number {
  return 1 + Math.floor(Math.exp(rng.next() * 7.5));
}

function generateProjects(opts: DatasetOptions, rng: Prng, envIds: Map<string, string>): SimProject[] {
  const projects: SimProject[] = [];
  const envId = (name: string): string => {
    let id = envIds.get(name);
    if (id === undefined) {
      id = String(1000 + envIds.size * 7);
      envIds.set(name, id);
    }
    return id;
  };
  const withoutEnvironments = opts.projectsWithoutEnvironments ?? (opts.projects >= 2 ? 1 : 0);
  for (let i = 0; i < opts.projects; i++) {
    const slug = projectSlug(i);
    const idNum = 4505281256090000 + i * 13;
    const noEnvironments = i >= opts.projects - withoutEnvironments;
    const envCount = noEnvironments ? 0 : opts.environmentsPerProject;
    const visible = environmentNames(envCount, rng);
    const environments: SimEnvironment[] = visible.map((name) => ({
      id: envId(name),
      name,
      isHidden: false,
    }));
    if (envCount > 0 && i % 7 === 3) {
      // A hidden environment: listed only with visibility=hidden/all, never has issues.
      environments.push({ id: envId('legacy-staging'), name: 'legacy-staging', isHidden: true });
    }
    const platform = i % 17 === 5 ? null : rng.pick(PLATFORMS);
    const team = TEAMS[i % 5] ?? TEAMS[0]!;
    // Most projects have one team, some two (listed second-team first, as Sentry lists them in no order),
    // one in thirteen none (its team was removed).
    const teams = i % 13 === 11 ? [] : i % 6 === 4 ? [TEAMS[(i + 2) % 5] ?? team, team] : [team];
    const releases: SimProject['releases'] = [];
    const major = rng.int(1, 4);
    for (let r = 0; r < 3; r++) {
      const version = `${slug}@${major}.${rng.int(0, 12)}.${r}`;
      releases.push({ version, dateCreated: isoMs(opts.now - (30 - r * 10) * DAY) });
    }
    projects.push({
      index: i,
      id: String(idNum),
      idNum,
      slug,
      name: titleCase(slug),
      platform,
      dateCreated: isoMs(opts.now - (400 + i) * DAY),
      team,
      teams,
      isMember: teams.some((t) => MEMBER_TEAMS.has(t.slug)),
      environments,
      visibleEnvironments: visible,
      releases,
    });
  }
  return projects;
}

function generateIssues(opts: DatasetOptions, rng: Prng, projects: SimProject[]): SimIssue[] {
  const issues: SimIssue[] = [];
  let nextId = 5_000_000_000;
  for (const project of projects) {
    const envs = project.visibleEnvironments;
    // Project 0 always has more than 100 unresolved recent issues in its first environment (pagination).
    const forced = project.index === 0 ? 110 : 0;
    const total = project.index === 0 ? Math.max(opts.issuesPerProject, 130) : opts.issuesPerProject;
    const upperSlug = project.slug.toUpperCase();
    for (let n = 0; n < total; n++) {
      const isForced = n < forced;
      nextId += rng.int(1, 9);
      const id = String(nextId);
      const kind = rng.pick(ERROR_KINDS);
      const firstAge = Math.floor(pickAge(rng, isForced));
      const lastAge = pickLastSeenAge(rng, firstAge);
      const firstSeenMs = opts.now - firstAge;
      const lastSeenMs = opts.now - lastAge;
      const status = isForced ? 'unresolved' : pickStatus(rng);
      const issueEnvs: SimIssueEnv[] = [];
      const release = (): string | null => (rng.chance(0.8) ? rng.pick(project.releases).version : null);
      if (envs.length === 0) {
        const count = eventCount(rng);
        issueEnvs.push({ env: null, count, userCount: rng.int(0, count), release: release() });
      } else {
        const primary = isForced ? (envs[0] ?? '') : rng.pick(envs);
        const names = [primary];
        if (envs.length >= 2 && rng.chance(0.2)) {
          let second = rng.pick(envs);
          while (second === primary) second = rng.pick(envs);
          names.push(second);
        }
        for (const env of names) {
          const count = eventCount(rng);
          issueEnvs.push({ env, count, userCount: rng.int(0, count), release: release() });
        }
      }
      const title = `${kind.type}: ${kind.value} (#${n + 1})`;
      const level = pickLevel(rng);
      issues.push({
        id,
        project,
        shortId: `${upperSlug}-${(n + 1).toString(36).toUpperCase()}`,
        title,
        culprit: kind.culprit,
        errorType: kind.type,
        errorValue: kind.value,
        logger: rng.chance(0.3) ? null : rng.pick(LOGGERS),
        level,
        status,
        substatus:
          status === 'resolved'
            ? null
            : status === 'ignored'
              ? 'archived_until_escalating'
              : firstAge < 7 * DAY
                ? 'new'
                : 'ongoing',
        platform: rng.chance(0.05) ? null : project.platform,
        isUnhandled: rng.chance(0.3),
        firstSeenMs,
        lastSeenMs,
        firstSeen: isoMs(firstSeenMs),
        lastSeen: isoMs(lastSeenMs),
        envs: issueEnvs,
        totalCount: issueEnvs.reduce((sum, e) => sum + e.count, 0),
        totalUserCount: issueEnvs.reduce((sum, e) => sum + e.userCount, 0),
        titleLower: title.toLowerCase(),
      });
    }
  }
  return issues;
}

function generateKeys(opts: DatasetOptions, rng: Prng, projects: SimProject[]): SimKey[] {
  const keys: SimKey[] = [];
  const adjectives = ['Liked', 'Bold', 'Quiet', 'Brave', 'Swift', 'Calm'];
  const animals = ['Pegasus', 'Oarfish', 'Heron', 'Lynx', 'Otter', 'Falcon'];
  for (const project of projects) {
    const count = rng.chance(0.35) ? 2 : 1;
    for (let k = 0; k < count; k++) {
      const isActive = k === 0 ? !rng.chance(0.2) : true;
      let rateLimit: SimKey['rateLimit'] = null;
      if (rng.chance(0.6)) {
        const window = rng.pick([1, 60, 3600, 86400]);
        rateLimit = { window, count: rng.int(1, 5000) };
      }
      keys.push({
        id: rng.hex(32),
        name: `${rng.pick(adjectives)} ${rng.pick(animals)}`,
        secret: rng.hex(32),
        project,
        isActive,
        rateLimit,
        dateCreated: isoMs(opts.now - (300 - k * 100 + project.index) * DAY),
      });
    }
  }
  return keys;
}

/**
 * Every outcome reason the data uses, as the hourly outcomes table stores it (a null reason is `none` there:
 * snuba's materialized view writes ifNull(reason, 'none')); rows store an index into this list. stats_v2
 * reports `smart_rate_limit` as `spike_protection` (src/sentry/snuba/outcomes.py, ReasonDimension).
 */
export const REASONS = [
  'none',
  // filtered: relay's inbound filter keys (FilterStatKey) and dynamic sampling
  'browser-extensions',
  'legacy-browsers',
  'web-crawlers',
  'localhost',
  'release-version',
  'error-message',
  'Sampled:1000,1004',
  // rate_limited: quota reason codes
  'usage_exceeded',
  'smart_rate_limit',
  'project_quota',
  'org_quota',
  'grace_period',
  // invalid: relay's DiscardReason names
  'duplicate',
  'invalid_transaction',
  'timestamp',
  'too_large:attachment',
  'payload',
  'project_id',
  // client_discard: what SDKs send in client reports
  'sample_rate',
  'before_send',
  'queue_overflow',
  'ratelimit_backoff',
  'network_error',
  'event_processor',
  'buffer_overflow',
] as const;

/** Reasons (indexes into REASONS) per outcome: relay gives accepted and abuse outcomes no reason. */
const OUTCOME_REASONS: Record<(typeof OUTCOMES)[number], number[]> = {
  accepted: [0],
  filtered: [1, 2, 3, 4, 5, 6, 7],
  rate_limited: [0, 8, 9, 10, 11, 12],
  invalid: [13, 14, 15, 16, 17, 18],
  abuse: [0],
  client_discard: [19, 20, 21, 22, 23, 24, 25],
  cardinality_limited: [0],
};

/**
 * Which categories a project sends (the chance it does, given the category it depends on) and a typical
 * daily accepted quantity: items, bytes (attachment, log_byte) or milliseconds (profile_duration*).
 */
const CATEGORY_USE: Record<(typeof CATEGORIES)[number], { p: number; needs?: string; daily: number }> = {
  error: { p: 1, daily: 2000 },
  default: { p: 1, daily: 300 },
  security: { p: 0.3, daily: 60 },
  transaction: { p: 0.7, daily: 6000 },
  transaction_indexed: { p: 1, needs: 'transaction', daily: 600 },
  span: { p: 0.9, needs: 'transaction', daily: 40_000 },
  span_indexed: { p: 1, needs: 'span', daily: 4000 },
  attachment: { p: 0.3, daily: 5_000_000 },
  replay: { p: 0.3, daily: 800 },
  profile: { p: 0.25, daily: 500 },
  profile_chunk: { p: 1, needs: 'profile', daily: 900 },
  profile_duration: { p: 1, needs: 'profile', daily: 3_000_000 },
  profile_duration_ui: { p: 0.1, daily: 1_000_000 },
  monitor: { p: 0.2, daily: 1440 },
  log_item: { p: 0.3, daily: 20_000 },
  log_byte: { p: 1, needs: 'log_item', daily: 8_000_000 },
  feedback: { p: 0.1, daily: 20 },
  uptime: { p: 0.1, daily: 1440 },
  metric_bucket: { p: 0.1, daily: 10_000 },
};

/**
 * Daily outcome bins for the 45 days up to (and including) the generation day, time-ordered. Each project
 * sends some categories (projects 0 and 1 all of them); per category it has accepted outcomes every day and
 * a handful of (outcome, reason) pairs on some days, so the month's rows grow with the date like Sentry's.
 */
function generateOutcomes(
  opts: DatasetOptions,
  rng: Prng,
  projects: SimProject[],
  /** Days before generation of the last bins (a deleted project's last day). */
  lastDay = 0,
): OutcomeTable {
  const table: OutcomeTable = {
    time: [],
    project: [],
    category: [],
    outcome: [],
    reason: [],
    quantity: [],
    timesSeen: [],
  };
  interface Combo {
    category: number;
    outcome: number;
    reason: number;
    /** Chance of a bin on a given day. */
    p: number;
    daily: number;
    /** Quantity per counted item (bytes or milliseconds per item; 1 for counts). */
    perItem: number;
  }
  const combos = new Map<SimProject, Combo[]>();
  for (const project of projects) {
    const scale = rng.range(0.2, 3);
    const used = new Set<string>();
    const out: Combo[] = [];
    CATEGORIES.forEach((category, c) => {
      const use = CATEGORY_USE[category];
      if (use.needs !== undefined && !used.has(use.needs)) return;
      if (project.index > 1 && !rng.chance(use.p)) return;
      used.add(category);
      const daily = use.daily * scale;
      const perItem = use.daily >= 1_000_000 ? rng.int(5_000, 200_000) : 1;
      out.push({ category: c, outcome: 0, reason: 0, p: 1, daily, perItem });
      const seen = new Set<number>();
      for (let k = rng.int(3, 12) * (opts.outcomeVariety ?? 1); k > 0; k--) {
        const o = rng.int(1, OUTCOMES.length - 1);
        const reason = rng.pick(OUTCOME_REASONS[OUTCOMES[o] ?? 'accepted']);
        const key = o * REASONS.length + reason;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({
          category: c,
          outcome: o,
          reason,
          p: rng.range(0.1, 0.35),
          daily: daily * rng.range(0.01, 0.2),
          perItem,
        });
      }
    });
    combos.set(project, out);
  }
  const today = Math.floor(opts.now / DAY) * DAY;
  for (let day = 45; day >= lastDay; day--) {
    const time = today - day * DAY;
    for (const project of projects) {
      for (const combo of combos.get(project) ?? []) {
        if (combo.p < 1 && !rng.chance(combo.p)) continue;
        const quantity = Math.max(1, Math.floor(rng.range(0.3, 1.7) * combo.daily));
        table.time.push(time);
        table.project.push(project.index);
        table.category.push(combo.category);
        table.outcome.push(combo.outcome);
        table.reason.push(combo.reason);
        table.quantity.push(quantity);
        table.timesSeen.push(Math.max(1, Math.ceil(quantity / combo.perItem / rng.int(1, 4))));
      }
    }
  }
  return table;
}

/** Both tables' rows in one, by time (each is sorted by time already). */
function mergeByTime(a: OutcomeTable, b: OutcomeTable): OutcomeTable {
  if (b.time.length === 0) return a;
  const out: OutcomeTable = {
    time: [],
    project: [],
    category: [],
    outcome: [],
    reason: [],
    quantity: [],
    timesSeen: [],
  };
  const columns = Object.keys(out) as Array<keyof OutcomeTable>;
  let i = 0;
  let j = 0;
  while (i < a.time.length || j < b.time.length) {
    const fromA = j >= b.time.length || (i < a.time.length && (a.time[i] ?? 0) <= (b.time[j] ?? 0));
    const [from, at] = fromA ? [a, i++] : [b, j++];
    for (const c of columns) out[c].push(from[c][at] ?? 0);
  }
  return out;
}

/**
 * Projects deleted a few days ago: they sent data this month, then were deleted, so only the
 * organization's usage still counts them. Indexes continue after the active projects'.
 */
function generateDeletedProjects(opts: DatasetOptions, first: number): SimProject[] {
  const count = opts.deletedProjects ?? (opts.projects >= 2 ? 1 : 0);
  return Array.from({ length: count }, (_, k) => {
    const index = first + k;
    const idNum = 4505281256090000 + index * 13;
    const team = TEAMS[index % 5] ?? TEAMS[0]!;
    return {
      index,
      id: String(idNum),
      idNum,
      slug: `retired-${k + 1}`,
      name: `Retired ${k + 1}`,
      platform: 'python',
      dateCreated: isoMs(opts.now - 200 * DAY),
      team,
      teams: [team],
      isMember: MEMBER_TEAMS.has(team.slug),
      environments: [],
      visibleEnvironments: [],
      releases: [],
    };
  });
}

export function generateDataset(opts: DatasetOptions): Dataset {
  const rng = new Prng(opts.seed);
  const envIds = new Map<string, string>();
  const projects = generateProjects(opts, rng, envIds);
  // Separate streams per part, so changing one part's generation does not shift the others.
  const issues = generateIssues(opts, new Prng(opts.seed ^ 0x5eed1), projects);
  const keys = generateKeys(opts, new Prng(opts.seed ^ 0x5eed2), projects);
  const deletedProjects = generateDeletedProjects(opts, projects.length);
  const outcomes = mergeByTime(
    generateOutcomes(opts, new Prng(opts.seed ^ 0x5eed3), projects),
    generateOutcomes(opts, new Prng(opts.seed ^ 0x5eed5), deletedProjects, DELETED_DAYS_AGO),
  );
  const monitorRelease = opts.monitorRelease ?? 'current';
  const monitors = generateMonitors({
    seed: opts.seed,
    count: opts.monitors ?? 0,
    projects,
    release: monitorRelease,
    now: opts.now,
  });
  const sessions = generateSessions(projects, opts.now, opts.seed ^ 0x5eed4);
  let spans: SpanTable | undefined;

  const issuesByProject = new Map<SimProject, SimIssue[]>(projects.map((p) => [p, []]));
  const issuesByProjectEnv = new Map<string, SimIssue[]>();
  const issuesById = new Map<string, SimIssue>();
  for (const issue of issues) {
    issuesById.set(issue.id, issue);
    issuesByProject.get(issue.project)?.push(issue);
    for (const e of issue.envs) {
      if (e.env === null) continue;
      const key = `${issue.project.index}\u0000${e.env}`;
      let list = issuesByProjectEnv.get(key);
      if (!list) issuesByProjectEnv.set(key, (list = []));
      list.push(issue);
    }
  }
  const keysByProject = new Map<SimProject, SimKey[]>(projects.map((p) => [p, []]));
  for (const key of keys) keysByProject.get(key.project)?.push(key);

  const orgEnvironments = new Set<string>();
  for (const p of projects) for (const e of p.environments) orgEnvironments.add(e.name);

  return {
    org: { id: '4504765715316736', slug: opts.org, name: titleCase(opts.org) },
    generatedAt: opts.now,
    projects,
    deletedProjects,
    projectsBySlug: new Map(projects.map((p) => [p.slug, p])),
    projectsById: new Map(projects.map((p) => [p.id, p])),
    orgEnvironments,
    issues,
    issuesById,
    issuesByProject,
    issuesByProjectEnv,
    keys,
    keysByProject,
    outcomes,
    monitors,
    monitorRelease,
    sessions,
    spans: () => (spans ??= generateSpans(projects, opts.now, opts.seed ^ 0x5eed5)),
  };
}
