/**
 * The ground truth: what a correct exporter publishes for the simulated data at a given instant. Computed
 * straight from the dataset, never through the HTTP layer, so it can check the client end to end.
 */
import type { Dataset } from './dataset.js';
import { CATEGORIES, OUTCOMES } from './dataset.js';
import { DAY, HOUR } from './durations.js';
import type { EventsTruth, GroundTruth, IssueWindowTruth, OpenIssueTruth, RateLimitTruth } from './types.js';

const NO_ENVIRONMENT = 'None';

function issueWindows(data: Dataset, now: number): IssueWindowTruth[] {
  const out: IssueWindowTruth[] = [];
  for (const project of data.projects) {
    const envs = project.visibleEnvironments.length > 0 ? project.visibleEnvironments : [NO_ENVIRONMENT];
    const rows = new Map<string, IssueWindowTruth>(
      envs.map((env) => [env, { project: project.slug, environment: env, h1: 0, h24: 0, d14: 0 }]),
    );
    for (const issue of data.issuesByProject.get(project) ?? []) {
      if (issue.status !== 'unresolved') continue;
      const age = now - issue.firstSeenMs;
      if (age > 14 * DAY) continue;
      for (const e of issue.envs) {
        const row = rows.get(e.env ?? NO_ENVIRONMENT);
        if (!row) continue;
        row.d14 += e.count;
        if (age <= DAY) row.h24 += e.count;
        if (age <= HOUR) row.h1 += e.count;
      }
    }
    out.push(...rows.values());
  }
  return out;
}

function openIssues(data: Dataset, now: number): OpenIssueTruth[] {
  const out: OpenIssueTruth[] = [];
  for (const issue of data.issues) {
    if (issue.status !== 'unresolved' || now - issue.firstSeenMs > HOUR) continue;
    for (const e of issue.envs) {
      out.push({
        issueId: issue.id,
        project: issue.project.slug,
        environment: e.env ?? NO_ENVIRONMENT,
        count: e.count,
        logger: issue.logger,
        level: issue.level,
        status: issue.status,
        platform: issue.platform,
        release: e.release,
        isUnhandled: issue.isUnhandled,
        firstSeen: issue.firstSeen,
        lastSeen: issue.lastSeen,
      });
    }
  }
  return out;
}

function monthEvents(data: Dataset, now: number): EventsTruth[] {
  const d = new Date(now);
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const rows = data.projects.map((p) => ({ project: p.slug, received: 0, rejected: 0, blacklisted: 0 }));
  const t = data.outcomes;
  const errorIndex = CATEGORIES.indexOf('error');
  for (let i = 0; i < t.time.length; i++) {
    const time = t.time[i] ?? 0;
    if (time < monthStart || time > now || t.category[i] !== errorIndex) continue;
    const row = rows[t.project[i] ?? 0];
    if (!row) continue;
    const outcome = OUTCOMES[t.outcome[i] ?? 0];
    const quantity = t.quantity[i] ?? 0;
    if (outcome === 'accepted') row.received += quantity;
    else if (outcome === 'filtered') {
      row.received += quantity;
      row.blacklisted += quantity;
    } else if (outcome === 'rate_limited') {
      row.received += quantity;
      row.rejected += quantity;
    }
  }
  return rows;
}

function rateLimits(data: Dataset): RateLimitTruth[] {
  return data.projects.map((project) => {
    const key = (data.keysByProject.get(project) ?? []).find((k) => k.isActive);
    const limit = key?.rateLimit;
    const eps = limit && limit.window > 0 ? Math.round((limit.count / limit.window) * 1e6) / 1e6 : 0;
    return { project: project.slug, eventsPerSecond: eps };
  });
}

export function computeTruth(data: Dataset, now: number): GroundTruth {
  return {
    issueWindows: issueWindows(data, now),
    openIssues: openIssues(data, now),
    events: monthEvents(data, now),
    rateLimits: rateLimits(data),
  };
}
