/**
 * The simulated organization's entities: projects, environments, issues, client keys, the usage-outcome,
 * cron-monitor and session tables, and the dataset that holds them. Generators (dataset.ts, monitors.ts,
 * sessions.ts) produce them and the serializers and endpoints read them; this module imports nothing from
 * the simulator, so the simulator's imports run one way.
 */

export interface SimEnvironment {
  id: string;
  name: string;
  isHidden: boolean;
}

export interface SimTeam {
  id: string;
  name: string;
  slug: string;
}

export interface SimProject {
  index: number;
  id: string;
  idNum: number;
  slug: string;
  name: string;
  platform: string | null;
  dateCreated: string;
  /** The project's first team (owners, ownership rules). */
  team: SimTeam;
  /** Every team that owns the project (`teams` of the project summary); empty for a project without a team. */
  teams: SimTeam[];
  /**
   * The token's user is a member of one of the project's teams. The organization has open membership, so the
   * user can access every project (`project=-1`, explicit ids), but without `project` Sentry answers for
   * member projects only (src/sentry/api/bases/organization.py `get_projects`).
   */
  isMember: boolean;
  /** Visible and hidden environments. Issues only ever have events in visible ones. */
  environments: SimEnvironment[];
  /** Names of the visible environments, in creation order. */
  visibleEnvironments: string[];
  releases: Array<{ version: string; dateCreated: string }>;
}

/** An issue's events in one environment (`env` null for a project without environments). */
export interface SimIssueEnv {
  env: string | null;
  count: number;
  userCount: number;
  release: string | null;
}

export interface SimIssue {
  id: string;
  project: SimProject;
  shortId: string;
  title: string;
  culprit: string;
  errorType: string;
  errorValue: string;
  logger: string | null;
  level: 'error' | 'warning' | 'fatal' | 'info';
  status: 'unresolved' | 'resolved' | 'ignored';
  substatus: string | null;
  platform: string | null;
  isUnhandled: boolean;
  firstSeenMs: number;
  lastSeenMs: number;
  firstSeen: string;
  lastSeen: string;
  envs: SimIssueEnv[];
  totalCount: number;
  totalUserCount: number;
  /** Lower-cased title, for free-text search. */
  titleLower: string;
}

export interface SimKey {
  id: string;
  name: string;
  secret: string;
  project: SimProject;
  isActive: boolean;
  rateLimit: { window: number; count: number } | null;
  dateCreated: string;
}

/** Which serializer and model the monitors follow: `current` (November 2025 on) or `older` (2023). */
export type MonitorRelease = 'current' | 'older';

export type SimMonitorEnvStatus =
  | 'active'
  | 'disabled'
  | 'ok'
  | 'error'
  | 'missed_checkin'
  | 'timeout'
  | 'pending_deletion'
  | 'deletion_in_progress';

export interface SimMonitorEnvironment {
  /** The Environment row's id (a tie-breaker of the environment order). */
  envId: number;
  name: string;
  status: SimMonitorEnvStatus;
  isMuted: boolean;
  lastCheckInMs: number | null;
  nextCheckInMs: number | null;
  nextCheckInLatestMs: number | null;
  /** An open incident (error environments of the current release). */
  incidentStartMs: number | null;
}

export interface SimMonitor {
  /** Creation order: the tie-breaker of every order. */
  index: number;
  guid: string;
  slug: string;
  name: string;
  project: SimProject;
  status: 'active' | 'disabled' | 'pending_deletion' | 'deletion_in_progress';
  /** Older releases: the monitor's own muted flag, independent of its environments. */
  storedMuted: boolean;
  owner: { type: 'user' | 'team'; id: string; name: string; email?: string } | null;
  config: Record<string, unknown>;
  dateCreatedMs: number;
  /** Every environment, those pending deletion included. */
  environments: SimMonitorEnvironment[];
}

/** Release health: session buckets as columns, sorted by time. */
export interface SessionTable {
  time: Float64Array;
  project: Int32Array;
  /** Index into `envNames`. */
  env: Int32Array;
  /** Index into the project's `releases`. */
  release: Int32Array;
  /** Five counts per bucket, in SESSION_STATUSES order (sessions.ts). */
  counts: Int32Array;
  /** MASKS user masks per bucket (sessions.ts). */
  users: Uint32Array;
  length: number;
  /** Environment names; '' for sessions sent without an environment. */
  envNames: string[];
}

/**
 * Usage outcomes as columns (one entry per row), sorted by time: a daily bin per project, category, outcome and
 * reason. Columns keep ~half a million rows cheap to hold and scan.
 */
export interface OutcomeTable {
  time: number[];
  project: number[];
  category: number[];
  outcome: number[];
  /** Index into REASONS (dataset.ts). */
  reason: number[];
  quantity: number[];
  timesSeen: number[];
}

/**
 * Spans as columns sorted by time: the transactions (segment spans) of every project and their child spans
 * (sim/spans.ts). A child span carries its transaction's name, environment and time.
 */
export interface SpanTable {
  /** Milliseconds since the epoch. */
  time: Float64Array;
  /** Project index. */
  project: Int32Array;
  /** Index into `names` (the transaction name) and `ops` (its transaction.op). */
  name: Int32Array;
  /** Index into `envNames`; -1 for a span sent without an environment. */
  env: Int32Array;
  /** `span.duration` in milliseconds, microsecond precision. */
  durationMs: Float64Array;
  /** Index into SPAN_STATUSES (sim/spans.ts). */
  status: Int32Array;
  /** 1 for a segment span (a transaction), 0 for a child span. */
  segment: Uint8Array;
  /** The sampling weight the EAP store keeps: 1 ÷ the SDK's sample rate. */
  weight: Float64Array;
  length: number;
  names: string[];
  ops: string[];
  envNames: string[];
}

export interface Dataset {
  org: { id: string; slug: string; name: string };
  generatedAt: number;
  projects: SimProject[];
  /**
   * Projects deleted this month (after sending data): listed nowhere and refused (403) by id, but their
   * outcomes stay in the organization's usage (stats_v2 without `project`). Their `index` continues after
   * the active projects', so outcome rows tell them apart.
   */
  deletedProjects: SimProject[];
  projectsBySlug: Map<string, SimProject>;
  projectsById: Map<string, SimProject>;
  /** Environment names that exist anywhere in the organization. */
  orgEnvironments: Set<string>;
  issues: SimIssue[];
  issuesById: Map<string, SimIssue>;
  issuesByProject: Map<SimProject, SimIssue[]>;
  /** `${projectIndex}\u0000${env}` -> issues with events in that environment. */
  issuesByProjectEnv: Map<string, SimIssue[]>;
  keys: SimKey[];
  keysByProject: Map<SimProject, SimKey[]>;
  outcomes: OutcomeTable;
  /** Cron monitors, those pending deletion included (Sentry does not list them). */
  monitors: SimMonitor[];
  monitorRelease: MonitorRelease;
  /** Release health: sessions per project, environment, release, status and user over time. */
  sessions: SessionTable;
  /** Transactions and spans (generated on first use). */
  spans: () => SpanTable;
}
