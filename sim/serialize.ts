/**
 * The JSON shapes Sentry answers with, built from the simulated objects. Field sets follow the published
 * OpenAPI spec (every required field present, with its documented type), so a client validated against the
 * simulator is validated against the spec.
 */
import { DAY, HOUR, isoMs } from './durations.js';
import type { Dataset, SimIssue, SimKey, SimProject } from './entities.js';
import type { IssueHit } from './issue-query.js';

const FALSE_FLAGS = [
  'hasFeedbacks',
  'hasFlags',
  'hasInsightsAgentMonitoring',
  'hasInsightsAppStart',
  'hasInsightsAssets',
  'hasInsightsCaches',
  'hasInsightsDb',
  'hasInsightsHttp',
  'hasInsightsMCP',
  'hasInsightsQueues',
  'hasInsightsScreenLoad',
  'hasInsightsVitals',
  'hasLogs',
  'hasMinifiedStackTrace',
  'hasMonitors',
  'hasNewFeedbacks',
  'hasProfiles',
  'hasReplays',
  'hasTraceMetrics',
  'hasUserReports',
] as const;

export function projectJson(project: SimProject, withEnvironments: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: project.id,
    slug: project.slug,
    name: project.name,
    platform: project.platform,
    dateCreated: project.dateCreated,
    isBookmarked: false,
    isMember: project.isMember,
    features: ['releases', 'issue-stream'],
    firstEvent: project.dateCreated,
    firstTransactionEvent: false,
    access: ['project:read', 'event:read'],
    hasAccess: true,
    hasSessions: false,
    // ProjectSummarySerializer: `team` is the first of `teams`, null without one.
    team: project.teams[0] ?? null,
    teams: project.teams,
    platforms: project.platform === null ? [] : [project.platform],
    latestRelease: project.releases.length > 0 ? { version: project.releases.at(-1)?.version } : null,
    latestDeploys: null,
  };
  for (const flag of FALSE_FLAGS) out[flag] = false;
  if (withEnvironments) out.environments = [...project.visibleEnvironments];
  return out;
}

export function environmentJson(env: {
  id: string;
  name: string;
  isHidden: boolean;
}): Record<string, unknown> {
  return { id: env.id, name: env.name, isHidden: env.isHidden };
}

/** `n` buckets of `size` ms ending with the current one, the issue's events spread evenly over its lifetime. */
function timeSeries(
  issue: SimIssue,
  count: number,
  now: number,
  size: number,
  n: number,
): Array<[number, number]> {
  const current = Math.floor(now / size) * size;
  const span = Math.max(1, issue.lastSeenMs - issue.firstSeenMs);
  const buckets: Array<[number, number]> = [];
  for (let i = n - 1; i >= 0; i--) {
    const start = current - i * size;
    const overlap = Math.min(start + size, issue.lastSeenMs) - Math.max(start, issue.firstSeenMs);
    buckets.push([start / 1000, overlap > 0 ? Math.round((count * overlap) / span) : 0]);
  }
  return buckets;
}

/** The issue's `stats` for a `groupStatsPeriod`: hourly for 24h (the default), daily for 14d, none for ''. */
function issueStats(
  issue: SimIssue,
  count: number,
  now: number,
  groupStatsPeriod: string,
): Record<string, unknown> {
  if (groupStatsPeriod === '') return {};
  if (groupStatsPeriod === '14d') return { '14d': timeSeries(issue, count, now, DAY, 14) };
  return { '24h': timeSeries(issue, count, now, HOUR, 24) };
}

export function issueJson(
  hit: IssueHit,
  data: Dataset,
  now: number,
  groupStatsPeriod = '24h',
): Record<string, unknown> {
  const { issue } = hit;
  const project = issue.project;
  const count = String(hit.count);
  return {
    id: issue.id,
    shareId: null,
    shortId: issue.shortId,
    title: issue.title,
    culprit: issue.culprit,
    permalink: `https://${data.org.slug}.sentry.io/issues/${issue.id}/`,
    logger: issue.logger,
    level: issue.level,
    status: issue.status,
    statusDetails: {},
    substatus: issue.substatus,
    isPublic: false,
    platform: issue.platform,
    priority: issue.level === 'fatal' ? 'high' : issue.level === 'error' ? 'medium' : 'low',
    priorityLockedAt: null,
    seerFixabilityScore: null,
    seerAutofixLastTriggered: null,
    seerExplorerAutofixLastTriggered: null,
    project: { id: project.id, name: project.name, slug: project.slug, platform: project.platform },
    type: 'error',
    issueType: 'error',
    issueCategory: 'error',
    metadata: {
      type: issue.errorType,
      value: issue.errorValue,
      title: issue.title,
      in_app_frame_mix: 'in-app-only',
    },
    numComments: 0,
    assignedTo: null,
    isBookmarked: false,
    isSubscribed: false,
    subscriptionDetails: null,
    hasSeen: false,
    annotations: [],
    isUnhandled: issue.isUnhandled,
    count,
    userCount: hit.userCount,
    firstSeen: issue.firstSeen,
    lastSeen: issue.lastSeen,
    derivedData: {
      blocker: 'none',
      progress: 'none',
      status: 'open',
      viewCount: 0,
      hasOpenFixPr: false,
      isAssigned: false,
      hasRootCause: false,
      lastCompletedAutofixStep: 'none',
      lastProgressedAt: null,
    },
    stats: issueStats(issue, hit.count, now, groupStatsPeriod),
    lifetime: {
      count: String(issue.totalCount),
      userCount: issue.totalUserCount,
      firstSeen: issue.firstSeen,
      lastSeen: issue.lastSeen,
    },
    filtered: null,
    sessionCount: 0,
    inbox: {
      reason: 0,
      reason_details: null,
      date_added: issue.firstSeen,
    },
    owners: { type: 'team', owner: `team:${project.team.id}`, date_added: issue.firstSeen },
    integrationIssues: [],
    sentryAppIssues: [],
    latestEventHasAttachments: false,
    matchingEventId: null,
    matchingEventEnvironment: hit.environment,
  };
}

export function keyJson(key: SimKey, data: Dataset): Record<string, unknown> {
  const pid = key.project.idNum;
  const host = `o${data.org.id}.ingest.sentry.io`;
  const api = `https://${host}/api/${pid}`;
  return {
    id: key.id,
    name: key.name,
    label: key.name,
    public: key.id,
    secret: key.secret,
    projectId: pid,
    isActive: key.isActive,
    rateLimit: key.rateLimit,
    dsn: {
      secret: `https://${key.id}:${key.secret}@${host}/${pid}`,
      public: `https://${key.id}@${host}/${pid}`,
      csp: `${api}/csp-report/?sentry_key=${key.id}`,
      security: `${api}/security/?sentry_key=${key.id}`,
      minidump: `${api}/minidump/?sentry_key=${key.id}`,
      nel: `${api}/nel/?sentry_key=${key.id}`,
      unreal: `${api}/unreal/${key.id}/`,
      crons: `${api}/crons/___MONITOR_SLUG___/${key.id}/`,
      cdn: `https://js.sentry-cdn.com/${key.id}.min.js`,
      playstation: `${api}/playstation/?sentry_key=${key.id}`,
      integration: `${api}/integration/`,
      otlp_traces: `${api}/integration/otlp/v1/traces`,
      otlp_logs: `${api}/integration/otlp/v1/logs`,
    },
    browserSdkVersion: '8.x',
    browserSdk: {
      choices: [
        ['latest', 'latest'],
        ['8.x', '8.x'],
        ['7.x', '7.x'],
      ],
    },
    dateCreated: key.dateCreated,
    dynamicSdkLoaderOptions: {
      hasReplay: true,
      hasPerformance: true,
      hasDebug: false,
      hasFeedback: false,
      hasLogsAndMetrics: false,
    },
    useCase: 'user',
  };
}

export function currentReleaseJson(
  issue: SimIssue,
  environment: string | undefined,
): Record<string, unknown> {
  const entry = environment === undefined ? issue.envs[0] : issue.envs.find((e) => e.env === environment);
  if (!entry || entry.release === null) return { currentRelease: null };
  const release = issue.project.releases.find((r) => r.version === entry.release);
  const version = entry.release;
  const at = version.indexOf('@');
  return {
    currentRelease: {
      release: {
        id: Math.abs(hashCode(version)),
        version,
        shortVersion: at >= 0 ? version.slice(at + 1) : version,
        status: 'open',
        dateCreated: release?.dateCreated ?? isoMs(issue.firstSeenMs),
        dateReleased: null,
        firstEvent: issue.firstSeen,
        lastEvent: issue.lastSeen,
        newGroups: 0,
        url: null,
        ref: null,
        data: {},
        owner: null,
        commitCount: 0,
        lastCommit: null,
        deployCount: 0,
        lastDeploy: null,
        authors: [],
        projects: [{ id: issue.project.idNum, slug: issue.project.slug, name: issue.project.name }],
        versionInfo: null,
      },
      environment: entry.env,
      firstSeen: issue.firstSeen,
      lastSeen: issue.lastSeen,
      stats: {},
    },
  };
}

function hashCode(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}
