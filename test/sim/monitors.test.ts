/**
 * The simulator's cron monitor list against what Sentry's code does (docs/sentry-api.md Part 3 §2): the
 * deviations from the published spec listed in deviations.ts, offset pagination, the orders, the filters,
 * and the two ways `isMuted` has been computed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSimulator } from '../../sim/index.js';
import type { SentrySimulator } from '../../sim/index.js';
import { get, getAll, parseLink } from './helpers.js';

interface Env {
  name: string;
  status: string;
  isMuted: boolean;
  lastCheckIn: string | null;
  nextCheckIn: string | null;
  nextCheckInLatest: string | null;
  activeIncident?: unknown;
}
interface Monitor {
  id: string;
  slug: string;
  name: string;
  status: string;
  isMuted: boolean;
  config: Record<string, unknown>;
  project: { id: string; slug: string };
  environments: Env[];
  owner?: unknown;
}

const PATH = 'organizations/acme/monitors/';
let current: SentrySimulator;
let older: SentrySimulator;
before(async () => {
  const sizes = { projects: 8, environmentsPerProject: 3, monitors: 125, rateLimit: false as const };
  current = await startSimulator({ ...sizes, seed: 61 });
  older = await startSimulator({ ...sizes, seed: 61, mode: 'self-hosted' });
});
after(() => Promise.all([current.close(), older.close()]));

async function all(sim: SentrySimulator, query = {}): Promise<Monitor[]> {
  return (await getAll<Monitor>(sim, PATH, query)).items;
}

test('monitors: environments is an array, owner may be null, no isUpserting, config without timezone or alert_rule_id', async () => {
  // src/sentry/monitors/serializers.py MonitorSerializer: `environments` a list (its TypedDict says one
  // object), `owner` actor_data.get(...) (None without owner), no `isUpserting` key; config is the stored
  // dict (models.py MONITOR_CONFIG requires neither timezone nor alert_rule_id).
  const monitors = await all(current);
  assert.ok(
    monitors.every((m) => Array.isArray(m.environments)),
    'every monitor has an environments list',
  );
  assert.ok(
    monitors.some((m) => m.environments.length === 0),
    'some monitor has no environment',
  );
  assert.ok(
    monitors.some((m) => m.owner === null),
    'some monitor has no owner (null)',
  );
  assert.ok(
    monitors.some((m) => m.owner !== null && typeof m.owner === 'object'),
    'some monitor has an owner object',
  );
  assert.ok(
    monitors.every((m) => !('isUpserting' in m)),
    'no monitor has an isUpserting key',
  );
  assert.ok(
    monitors.some((m) => !('timezone' in m.config)),
    "some monitor's config has no timezone",
  );
  assert.ok(
    monitors.some((m) => !('alert_rule_id' in m.config)),
    "some monitor's config has no alert_rule_id",
  );
  // lastCheckIn and the next check-in times are nullable (models.py DateTimeField(null=True)).
  const envs = monitors.flatMap((m) => m.environments);
  assert.ok(
    envs.some((e) => e.lastCheckIn === null),
    'some monitor environment has never checked in (lastCheckIn null)',
  );
  assert.ok(
    envs.every((e) => 'activeIncident' in e),
    'every monitor environment has an activeIncident key',
  );
  // Older releases: no owner and no activeIncident at all.
  const old = await all(older);
  assert.ok(
    old.every((m) => !('owner' in m) && m.environments.every((e) => !('activeIncident' in e))),
    'older releases send neither owner nor activeIncident',
  );
});

test('monitors page by OffsetPaginator cursors, at most 100 a page; monitors pending deletion are not listed', async () => {
  const first = await get(current, PATH, { per_page: 100, project: -1 });
  assert.equal(first.status, 200);
  assert.equal((first.json as unknown[]).length, 100);
  const link = parseLink(first.headers.get('link'));
  assert.deepEqual(
    link.map((e) => [e.rel, e.results, e.cursor]),
    [
      ['previous', false, '100:-1:1'],
      ['next', true, '100:1:0'],
    ],
  );
  const second = await get(current, PATH, { per_page: 100, project: -1, cursor: '100:1:0' });
  const rest = second.json as Monitor[];
  assert.deepEqual(
    parseLink(second.headers.get('link')).map((e) => [e.rel, e.results]),
    [
      ['previous', true],
      ['next', false],
    ],
  );
  const ids = [...(first.json as Monitor[]), ...rest].map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, 'no monitor twice');
  // Two of the 125 are pending deletion or being deleted.
  assert.equal(ids.length, 123);
  assert.equal(new Set(current.truth().monitors.map((m) => `${m.project}/${m.monitor}`)).size, 123);

  assert.equal((await get(current, PATH, { per_page: 101 })).status, 400);
  assert.equal((await get(current, PATH, { per_page: 0 })).status, 400);
  assert.equal((await get(current, PATH, { cursor: '100:-1:0' })).status, 400);
  assert.equal((await get(current, PATH, { cursor: 'nope' })).status, 400);
  // Environments pending deletion are left out too.
  const names = [...(first.json as Monitor[]), ...rest].flatMap((m) => m.environments.map((e) => e.name));
  assert.ok(!names.includes('deleted-environment'), 'the environment pending deletion is not listed');
  assert.ok(
    !names.some((n) => ['pending_deletion', 'deletion_in_progress'].includes(n)),
    'no environment in a deletion status is listed',
  );
});

/** MONITOR_ENVIRONMENT_ORDERING: error, ok, active, disabled; a muted environment after them. */
function rank(e: Env): number {
  if (e.isMuted) return 4;
  return (
    ({ error: 0, missed_checkin: 0, timeout: 0, ok: 1, active: 2 } as Record<string, number>)[e.status] ?? 3
  );
}

test('monitors: default order by best environment status, sort=name by name, asc=0 reversed', async () => {
  // organization_monitor_index.py get(): sort=status (default) and name; asc=1 (default) or 0.
  const byStatus = await all(current);
  const key = (m: Monitor): number => {
    if (m.status === 'disabled') return 5;
    if (m.environments.length > 0 && m.environments.every((e) => e.isMuted)) return 4;
    return m.environments.length === 0 ? 6 : Math.min(...m.environments.map(rank));
  };
  const keys = byStatus.map(key);
  assert.deepEqual(
    keys,
    [...keys].sort((a, b) => a - b),
  );
  assert.ok(new Set(keys).size >= 5, `ranks seen: ${[...new Set(keys)].join(',')}`);

  const byName = await all(current, { sort: 'name' });
  const names = byName.map((m) => m.name);
  assert.deepEqual(names, [...names].sort());
  assert.deepEqual(new Set(byName.map((m) => m.id)), new Set(byStatus.map((m) => m.id)));
  const reversed = await all(current, { sort: 'name', asc: 0 });
  assert.deepEqual(
    reversed.map((m) => m.id),
    byName.map((m) => m.id).reverse(),
  );
});

test('monitors: environments ordered by status rank, muted last, then the latest check-in', async () => {
  // serializers.py get_attrs: order_by("status_ordering", "-last_checkin", "environment_id");
  // test_environments_sorted (jungle error, volcano ok -75 s, vines ok -80 s, tree ok muted).
  for (const m of await all(current)) {
    const ranks = m.environments.map(rank);
    assert.deepEqual(
      ranks,
      [...ranks].sort((a, b) => a - b),
      m.slug,
    );
    for (let i = 1; i < m.environments.length; i++) {
      const [a, b] = [m.environments[i - 1]!, m.environments[i]!];
      if (rank(a) === rank(b) && a.lastCheckIn !== null && b.lastCheckIn !== null) {
        assert.ok(a.lastCheckIn >= b.lastCheckIn, `${m.slug}: newest check-in first`);
      }
    }
  }
});

test('monitors: isMuted is computed from every environment now, the monitor’s own flag in older releases', async () => {
  // Current: monitors/models.py is_monitor_muted (migration 0011: muted iff all environments muted);
  // tests/sentry/monitors/test_models.py MonitorIsMutedPropertyTestCase.
  const now = await all(current);
  for (const m of now) {
    const expected = m.environments.length > 0 && m.environments.every((e) => e.isMuted);
    assert.equal(m.isMuted, expected, m.slug);
  }
  assert.ok(
    now.some((m) => m.isMuted),
    'some monitor is muted (all its environments muted)',
  );
  assert.ok(
    now.some((m) => !m.isMuted && m.environments.some((e) => e.isMuted)),
    'some monitor is not muted while one of its environments is',
  );
  // Older: a column of its own (serializers.py before November 2025: "isMuted": obj.is_muted).
  const old = await all(older);
  assert.ok(
    old.some((m) => m.isMuted && m.environments.some((e) => !e.isMuted)),
    'older releases: some muted monitor has an environment that is not muted',
  );
  const statuses = new Set(old.flatMap((m) => m.environments.map((e) => e.status)));
  assert.ok(
    statuses.has('missed_checkin') && statuses.has('timeout'),
    'older releases report the statuses missed_checkin and timeout',
  );
  assert.ok(
    !new Set(now.flatMap((m) => m.environments.map((e) => e.status))).has('missed_checkin'),
    'current releases never report missed_checkin',
  );
  // Slugs: unique per project now (unique_together project_id, slug), in the organization before.
  assert.ok(
    new Set(now.map((m) => m.slug)).size < now.length,
    'current releases: one slug is used in several projects',
  );
  assert.equal(new Set(old.map((m) => m.slug)).size, old.length);
});

test('monitors: project and environment filters', async () => {
  const monitors = await all(current);
  const project = monitors[0]!.project;
  const mine = await all(current, { project: project.id });
  assert.ok(
    mine.length > 0 && mine.every((m) => m.project.id === project.id),
    `project=${project.id} returns that project's monitors only`,
  );
  assert.equal(mine.length, monitors.filter((m) => m.project.id === project.id).length);
  assert.equal((await get(current, PATH, { project: '12345' })).status, 403);
  assert.equal((await get(current, PATH, { project: 'web' })).status, 400);
  const env = monitors.flatMap((m) => m.environments)[0]!.name;
  const inEnv = await all(current, { environment: env });
  assert.ok(inEnv.length > 0, `environment=${env} returns monitors`);
  assert.ok(
    inEnv.every((m) => m.environments.every((e) => e.name === env)),
    `environment=${env} returns only that environment of each monitor`,
  );
  assert.equal((await get(current, PATH, { environment: 'no-such-env' })).status, 404);
});
