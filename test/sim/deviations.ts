/**
 * Where Sentry's code differs from its published OpenAPI spec, in ways the exporter relies on: the only
 * differences the contract tests (simulator vs spec, client vs spec) allow. Each entry names the source in
 * getsentry/sentry and is explained in docs/sentry-api.md; each has a test of its own that pins the
 * behaviour (named in `pinnedBy`).
 */

export interface Deviation {
  /** Simulator endpoint template. */
  endpoint: string;
  /** What differs. */
  what: string;
  /** Where Sentry's code shows it. */
  source: string;
  /** The test that pins it (file: test name). */
  pinnedBy: string;
}

/** A response field the spec requires (or types otherwise) that Sentry's code leaves out or changes. */
export interface ResponseDeviation extends Deviation {
  /** AJV error `instancePath` pattern and keyword (and `params.missingProperty` for `required`). */
  instancePath: RegExp;
  keyword: string;
  missingProperty?: string;
  /** Only in this simulator mode ('sentry.io' or 'self-hosted'); both when absent. */
  mode?: 'sentry.io' | 'self-hosted';
}

/** A query parameter Sentry's code reads that the spec does not declare for the endpoint. */
export interface QueryDeviation extends Deviation {
  param: string;
}

/** Endpoints the exporter calls that the spec does not document at all. */
export type UndocumentedEndpoint = Deviation;

export const RESPONSE_DEVIATIONS: readonly ResponseDeviation[] = [
  {
    endpoint: '/organizations/{org}/stats_v2/',
    what: 'grouped by project, the answer has no `intervals` key (the spec requires it)',
    source:
      'src/sentry/api/endpoints/organization_stats_v2.py (result_timeseries = None if "project_id" in query.query_groupby); src/sentry/snuba/outcomes.py massage_outcomes_result (del result["intervals"])',
    pinnedBy: 'test/sim/real-sentry.test.ts: stats_v2 grouped by project',
    instancePath: /^$/,
    keyword: 'required',
    missingProperty: 'intervals',
    mode: 'sentry.io',
  },
  {
    endpoint: '/organizations/{org}/stats_v2/',
    what: 'grouped by project, no group has `series` (the spec requires it)',
    source:
      'src/sentry/api/endpoints/organization_stats_v2.py; src/sentry/snuba/outcomes.py (massage_outcomes_result)',
    pinnedBy: 'test/sim/real-sentry.test.ts: stats_v2 grouped by project',
    instancePath: /^\/groups\/\d+$/,
    keyword: 'required',
    missingProperty: 'series',
    mode: 'sentry.io',
  },
  {
    endpoint: '/organizations/{org}/projects/',
    what: 'self-hosted mode: project summaries without `environments` (older releases; the exporter then asks each project)',
    source:
      'src/sentry/api/serializers/models/project.py (ProjectSummarySerializer); a fallback, not a known current case',
    pinnedBy: 'test/collectors/collection.test.ts: older self-hosted Sentry',
    instancePath: /^\/\d+$/,
    keyword: 'required',
    missingProperty: 'environments',
    mode: 'self-hosted',
  },
  {
    endpoint: '/organizations/{org}/monitors/',
    what: '`environments` is an array of environment objects (the spec types it as one object)',
    source:
      'src/sentry/monitors/serializers.py (MonitorSerializer.get_attrs: defaultdict(list); the TypedDict annotation is wrong)',
    pinnedBy:
      'test/sim/monitors.test.ts: monitors: environments is an array, owner may be null, no isUpserting, config without timezone or alert_rule_id',
    instancePath: /^\/\d+\/environments$/,
    keyword: 'type',
  },
  {
    endpoint: '/organizations/{org}/monitors/',
    what: 'no `isUpserting` key (the spec requires it)',
    source: 'src/sentry/monitors/serializers.py (MonitorSerializer.serialize)',
    pinnedBy:
      'test/sim/monitors.test.ts: monitors: environments is an array, owner may be null, no isUpserting, config without timezone or alert_rule_id',
    instancePath: /^\/\d+$/,
    keyword: 'required',
    missingProperty: 'isUpserting',
  },
  {
    endpoint: '/organizations/{org}/monitors/',
    what: '`owner` is null for a monitor without an owner (the spec requires an object)',
    source:
      'src/sentry/monitors/serializers.py (MonitorSerializer.get_attrs: actor_data.get(item.owner_actor))',
    pinnedBy:
      'test/sim/monitors.test.ts: monitors: environments is an array, owner may be null, no isUpserting, config without timezone or alert_rule_id',
    instancePath: /^\/\d+\/owner$/,
    keyword: 'type',
    mode: 'sentry.io',
  },
  {
    endpoint: '/organizations/{org}/monitors/',
    what: 'self-hosted mode (older releases): no `owner` key at all',
    source: 'src/sentry/monitors/serializers.py (versions before owners, e.g. 020c0b4)',
    pinnedBy:
      'test/sim/monitors.test.ts: monitors: environments is an array, owner may be null, no isUpserting, config without timezone or alert_rule_id',
    instancePath: /^\/\d+$/,
    keyword: 'required',
    missingProperty: 'owner',
    mode: 'self-hosted',
  },
  {
    endpoint: '/organizations/{org}/monitors/',
    what: '`config` of a monitor created without a time zone has no `timezone` key',
    source:
      'src/sentry/monitors/models.py (MONITOR_CONFIG requires only checkin_margin, max_runtime, schedule_type, schedule)',
    pinnedBy:
      'test/sim/monitors.test.ts: monitors: environments is an array, owner may be null, no isUpserting, config without timezone or alert_rule_id',
    instancePath: /^\/\d+\/config$/,
    keyword: 'required',
    missingProperty: 'timezone',
  },
  {
    endpoint: '/organizations/{org}/monitors/',
    what: '`config` of a monitor without an alert rule has no `alert_rule_id` key',
    source: 'src/sentry/monitors/models.py (MONITOR_CONFIG; Monitor.get_issue_alert_rule drops a stale id)',
    pinnedBy:
      'test/sim/monitors.test.ts: monitors: environments is an array, owner may be null, no isUpserting, config without timezone or alert_rule_id',
    instancePath: /^\/\d+\/config$/,
    keyword: 'required',
    missingProperty: 'alert_rule_id',
  },
];

export const QUERY_DEVIATIONS: readonly QueryDeviation[] = [
  {
    endpoint: '/organizations/{org}/stats_v2/',
    param: 'category',
    what: 'category takes every relay data category name (span, log_byte, feedback, ...), not only the ten of the spec enum; the exporter filters by a category Sentry printed when it splits one project',
    source:
      'src/sentry/snuba/outcomes.py (CategoryDimension.resolve_filter, DataCategory.parse); getsentry/relay relay-base-schema/src/data_category.rs (from_name)',
    pinnedBy: "test/sim/stats-v2.test.ts: stats_v2 refuses what Sentry's code refuses",
  },
  {
    endpoint: '/projects/{org}/{project}/keys/',
    param: 'per_page',
    what: 'per_page (1..100) is read by every paginated endpoint, declared or not',
    source: 'src/sentry/api/base.py (Endpoint.paginate, get_per_page)',
    pinnedBy: 'test/sentry/client.test.ts: each method sends the documented path and query',
  },
  {
    endpoint: '/organizations/{org}/project-keys/',
    param: 'per_page',
    what: 'per_page (default 10, max 100) is not declared',
    source:
      'src/sentry/api/endpoints/organization_project_keys.py (default_per_page=10); src/sentry/api/base.py',
    pinnedBy: 'test/sentry/client.test.ts: each method sends the documented path and query',
  },
  {
    endpoint: '/organizations/{org}/project-keys/',
    param: 'project',
    what: 'project=-1 (all projects, not only the member ones) is not declared',
    source:
      'src/sentry/api/endpoints/organization_project_keys.py (self.get_projects); src/sentry/api/bases/organization.py',
    pinnedBy: 'test/sentry/client.test.ts: each method sends the documented path and query',
  },
  {
    endpoint: '/organizations/{org}/monitors/',
    param: 'per_page',
    what: 'per_page (default and max 100) is not declared',
    source:
      'src/sentry/monitors/endpoints/organization_monitor_index.py (self.paginate); src/sentry/api/base.py',
    pinnedBy:
      'test/sim/monitors.test.ts: monitors page by OffsetPaginator cursors, at most 100 a page; monitors pending deletion are not listed',
  },
  {
    endpoint: '/organizations/{org}/monitors/',
    param: 'sort',
    what: 'sort=status (default), name or muted is not declared; the exporter asks sort=name, a stable order for offset pages',
    source:
      'src/sentry/monitors/endpoints/organization_monitor_index.py (get: request.GET.get("sort", "status"))',
    pinnedBy:
      'test/sim/monitors.test.ts: monitors: default order by best environment status, sort=name by name, asc=0 reversed',
  },
  {
    endpoint: '/organizations/{org}/monitors/',
    param: 'asc',
    what: 'asc=1 (default) or 0 is not declared',
    source: 'src/sentry/monitors/endpoints/organization_monitor_index.py (get: request.GET.get("asc", "1"))',
    pinnedBy:
      'test/sim/monitors.test.ts: monitors: default order by best environment status, sort=name by name, asc=0 reversed',
  },
  {
    endpoint: '/organizations/{org}/sessions/',
    param: 'cursor',
    what: 'the answer is always paginated (Link with cursors); the spec declares per_page but not cursor',
    source:
      'src/sentry/api/endpoints/organization_sessions.py (self.paginate with SessionsDataSeriesPaginator)',
    pinnedBy:
      'test/sim/sessions.test.ts: sessions: without session.status, per_page pages through Link cursors',
  },
  {
    endpoint: '/organizations/{org}/events/',
    param: 'sampling',
    what: 'sampling=NORMAL|HIGHEST_ACCURACY|HIGHEST_ACCURACY_FLEX_TIME chooses the storage tier of the spans dataset (an unknown mode is a 400); the exporter asks HIGHEST_ACCURACY, the full-fidelity tier',
    source:
      'src/sentry/search/eap/sampling.py (validate_sampling); src/sentry/search/eap/constants.py (SAMPLING_MODE_MAP); src/sentry/api/endpoints/organization_events.py',
    pinnedBy: 'test/sim/events.test.ts: events: limits and refusals of the request itself',
  },
  {
    endpoint: '/organizations/{org}/events/',
    param: 'disableAggregateExtrapolation',
    what: 'disableAggregateExtrapolation=1 makes the spans aggregates plain (not extrapolated by sampling weights): count() is the number of stored spans',
    source:
      'src/sentry/api/endpoints/organization_events.py (get_rpc_config: request.GET.get("disableAggregateExtrapolation", "0") == "1")',
    pinnedBy:
      'test/sim/events.test.ts: events: spans counts are extrapolated by sampling weight unless disableAggregateExtrapolation=1',
  },
  {
    endpoint: '/organizations/{org}/events/',
    param: 'sort',
    what: 'sort may be repeated: the table is ordered by each in turn (the spec declares one string); the exporter breaks ties of count() by project and transaction',
    source: 'src/sentry/api/bases/organization_events.py (get_orderby: request.GET.getlist("sort"))',
    pinnedBy:
      'test/sentry/simulator.test.ts: every request the client sends is a path and query parameters declared by the OpenAPI spec',
  },
];

/**
 * What Sentry's code does where the spec says otherwise or nothing, beyond the shape of answers and the
 * parameters: behaviour the exporter relies on.
 */
export const BEHAVIOUR_DEVIATIONS: readonly Deviation[] = [
  {
    endpoint: '/organizations/{org}/sessions/',
    what: 'at most ⌊10,000 ÷ len(intervals)⌋ groups without per_page (per_page + 1 with it); the rest are dropped without a word (the spec only speaks of "groups per request")',
    source:
      'src/sentry/snuba/metrics/query.py (DeprecatingMetricsQuery.get_default_limit, MAX_POINTS); src/sentry/release_health/metrics_sessions_v2.py (run_sessions_query, limit=query.limit)',
    pinnedBy:
      'test/sim/sessions.test.ts: sessions: without per_page the groups beyond ⌊10,000 ÷ intervals⌋ are dropped without a word',
  },
  {
    endpoint: '/organizations/{org}/sessions/',
    what: 'grouped by session.status the limit counts metric groups, the paginator output groups: no next page is ever announced',
    source:
      'src/sentry/api/endpoints/organization_sessions.py (SessionsDataSeriesPaginator.get_result: has_more = len(groups) == limit + 1)',
    pinnedBy:
      'test/sim/sessions.test.ts: sessions: grouped by session.status the limit counts metric groups and the paginator never sees a next page',
  },
  {
    endpoint: '/organizations/{org}/sessions/',
    what: 'rate fields (crash_free_rate(...), ...) grouped or filtered by session.status are a 400; the spec lists them as ordinary fields',
    source: 'src/sentry/release_health/metrics_sessions_v2.py (SimpleForwardingField.__init__)',
    pinnedBy:
      'test/sim/sessions.test.ts: sessions: rate fields cannot be grouped or filtered by session.status',
  },
  {
    endpoint: '/organizations/{org}/sessions/',
    what: 'statuses are healthy, errored, crashed, abnormal and (current releases) unhandled, every one zero-filled per group; the spec names none',
    source: 'src/sentry/release_health/metrics_sessions_v2.py (SessionStatus, Field.ensure_status_groups)',
    pinnedBy:
      'test/sim/sessions.test.ts: sessions: by.project is an integer id; every status of a group is there, zero-filled',
  },
  {
    endpoint: '/organizations/{org}/sessions/',
    what: 'the interval may be as small as ten seconds (the spec says one hour) and must divide a day; start and end snap to it',
    source:
      'src/sentry/snuba/sessions_v2.py (get_constrained_date_range, AllowedResolution.ten_seconds); src/sentry/snuba/metrics/utils.py (to_intervals)',
    pinnedBy: 'test/sim/sessions.test.ts: sessions: start is floored and end ceiled to the interval',
  },
  {
    endpoint: '/organizations/{org}/events/',
    what: '`dataset` is optional (discover when absent) and takes every key of DATASET_OPTIONS of the release, transactions and discover among them; the spec requires it and lists six values; older releases refuse spans with a 400 naming the ones they know',
    source:
      'src/sentry/api/bases/organization_events.py (get_dataset: request.GET.get("dataset", "discover")); src/sentry/snuba/utils.py (DATASET_OPTIONS)',
    pinnedBy:
      'test/sim/events.test.ts: events: each release knows its datasets; an unknown one is a 400 naming DATASET_OPTIONS in order',
  },
  {
    endpoint: '/organizations/{org}/events/',
    what: '`project` takes numeric ids (or -1), not slugs as the spec says: a slug is a 400',
    source: 'src/sentry/api/bases/organization.py (get_requested_project_ids_unchecked)',
    pinnedBy: 'test/sim/events.test.ts: events: limits and refusals of the request itself',
  },
  {
    endpoint: '/organizations/{org}/events/',
    what: 'without Discover or Performance the answer is a 404 with no body (not a JSON detail)',
    source:
      'src/sentry/api/endpoints/organization_events.py (get: if not self.has_feature(...): return Response(status=404)); src/sentry/api/bases/organization_events.py (has_feature)',
    pinnedBy:
      'test/sim/events.test.ts: events: without Discover or Performance the answer is a 404 with no body',
  },
];

export const UNDOCUMENTED_ENDPOINTS: readonly UndocumentedEndpoint[] = [
  {
    endpoint: '/organizations/{org}/issues/{issue_id}/current-release/',
    what: 'the current release of an issue (used by Sentry’s web UI) is not in the spec',
    source: 'src/sentry/issues/endpoints/group_current_release.py (GroupCurrentReleaseEndpoint, PRIVATE)',
    pinnedBy: 'test/sentry/parse.test.ts: current release and error details',
  },
  {
    endpoint: '/issues/{issue_id}/current-release/',
    what: 'the same endpoint on its deprecated URL without the organization (the simulator serves both)',
    source: 'src/sentry/api/urls.py (create_group_urls); group_current_release.py (@deprecated)',
    pinnedBy: 'test/sim/issues.test.ts: current release',
  },
];

/** Whether the spec's silence about `param` on `endpoint` is a documented deviation. */
export function queryDeviation(endpoint: string, param: string): QueryDeviation | undefined {
  return QUERY_DEVIATIONS.find((d) => d.endpoint === endpoint && d.param === param);
}

export function isUndocumented(endpoint: string): boolean {
  return UNDOCUMENTED_ENDPOINTS.some((d) => d.endpoint === endpoint);
}
