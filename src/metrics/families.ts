import type { EventTotalsRow, IssueData, OpenIssueRow, RateLimitRow } from '../collectors/model.js';
import { NO_ENVIRONMENT, pyBool, pyDate, pyStr } from './compat.js';
import type { Family, Sample } from './exposition.js';

/**
 * The Sentry metric families, built from collected rows. Names, types, label names and label spellings
 * are the Python exporter's (legacy mode, the default), so existing dashboards keep working. With
 * SENTRY_EXPORTER_LEGACY_METRICS=false the same data is written under names that pass
 * `promtool check metrics`: no gauge histogram with non-numeric `le`, snake_case labels, no `_sec`.
 */

export interface FamilyOptions {
  legacy: boolean;
  buckets: { h1: boolean; h24: boolean; d14: boolean };
  /** Seconds between collection cycles, said in HELP texts. */
  pollInterval: number;
  now: Date;
}

function cadence(opts: FamilyOptions): string {
  return `Collected in the background every ${opts.pollInterval}s.`;
}

function envLabel(environment: string | null): string {
  return environment ?? NO_ENVIRONMENT;
}

export function issueWindowFamilies(data: IssueData, opts: FamilyOptions): Family[] {
  const families: Family[] = [];
  const enabled: Array<[le: string, window: string, pick: (r: IssueData['windows'][number]) => number]> = [];
  if (opts.buckets.h1) enabled.push(['1h', '1h', (r) => r.h1]);
  if (opts.buckets.h24) enabled.push(['24h', '24h', (r) => r.h24]);
  if (opts.buckets.d14) enabled.push(['+Inf', '14d', (r) => r.d14]);

  if (enabled.length > 0) {
    const samples: Sample[] = [];
    if (opts.legacy) {
      // A gauge histogram as Python's prometheus_client writes one in the 0.0.4 text format: buckets,
      // then _gcount (the last bucket) and _gsum (the sum of the enabled buckets).
      for (const row of data.windows) {
        const base = [
          ['project_slug', row.project],
          ['environment', envLabel(row.environment)],
        ] as const;
        let sum = 0;
        let last = 0;
        for (const [le, , pick] of enabled) {
          const value = pick(row);
          sum += value;
          last = value;
          samples.push({ name: 'sentry_issues_bucket', labels: [...base, ['le', le]], value });
        }
        samples.push({ name: 'sentry_issues_gcount', labels: base, value: last });
        samples.push({ name: 'sentry_issues_gsum', labels: base, value: sum });
      }
      families.push({
        name: 'sentry_issues',
        type: 'histogram',
        help: `Number of events of open issues (aka is:unresolved) per project and environment, first seen within 1h, 24h and 14d (le="+Inf"). ${cadence(opts)}`,
        samples,
      });
    } else {
      for (const row of data.windows) {
        for (const [, window, pick] of enabled) {
          samples.push({
            name: 'sentry_unresolved_issue_events',
            labels: [
              ['project_slug', row.project],
              ['environment', envLabel(row.environment)],
              ['window', window],
            ],
            value: pick(row),
          });
        }
      }
      families.push({
        name: 'sentry_unresolved_issue_events',
        type: 'gauge',
        help: `Events of unresolved issues per project and environment, first seen within the window (1h, 24h, 14d). ${cadence(opts)}`,
        samples,
      });
    }
  }

  families.push(openIssueFamily(data.openIssues, opts));
  return families;
}

function openIssueFamily(rows: OpenIssueRow[], opts: FamilyOptions): Family {
  const [unhandled, first, last] = opts.legacy
    ? ['isUnhandled', 'firstSeen', 'lastSeen']
    : ['is_unhandled', 'first_seen', 'last_seen'];
  return {
    name: 'sentry_open_issue_events',
    type: 'gauge',
    help: `Events of each open issue (aka is:unresolved) first seen within the last hour. ${cadence(opts)}`,
    samples: rows.map((r) => ({
      name: 'sentry_open_issue_events',
      labels: [
        ['issue_id', r.issueId],
        ['logger', pyStr(r.logger)],
        ['level', r.level],
        ['status', r.status],
        ['platform', pyStr(r.platform)],
        ['project_slug', r.project],
        ['environment', envLabel(r.environment)],
        ['release', pyStr(r.release)],
        [unhandled, pyBool(r.isUnhandled)],
        [first, pyDate(r.firstSeen, opts.now)],
        [last, pyDate(r.lastSeen, opts.now)],
      ],
      value: r.count,
    })),
  };
}

export function eventFamilies(rows: EventTotalsRow[], opts: FamilyOptions): Family[] {
  const samples: Sample[] = [];
  for (const row of rows) {
    for (const stat of ['received', 'rejected', 'blacklisted'] as const) {
      samples.push({
        name: 'sentry_events_total',
        labels: [
          ['project_slug', row.project],
          ['stat', stat],
        ],
        value: row[stat],
      });
    }
  }
  return [
    {
      name: 'sentry_events_total',
      type: 'counter',
      help: `Error events this calendar month (UTC) per project: received, rejected (rate limited), blacklisted (filtered). ${cadence(opts)}`,
      samples,
    },
  ];
}

export function rateLimitFamilies(rows: RateLimitRow[], opts: FamilyOptions): Family[] {
  const name = opts.legacy ? 'sentry_rate_limit_events_sec' : 'sentry_rate_limit_events_per_second';
  return [
    {
      name,
      type: 'gauge',
      help: `Rate limit of the project's first active client key in events per second (0: none). ${cadence(opts)}`,
      samples: rows.map((r) => ({ name, labels: [['project_slug', r.project]], value: r.eventsPerSecond })),
    },
  ];
}
