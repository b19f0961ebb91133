/**
 * The metric names a PromQL expression reads, found without a full parser: strings, label matchers,
 * ranges and grouping clauses are removed, then every identifier that is not a function call or a keyword
 * is a metric name. Good enough for the hand-written queries of the dashboard and the alert rules.
 */

/** Every metric the exporter exposes (issue 3), plus `up`, which Prometheus adds to each target. */
export const KNOWN_METRICS = new Set([
  'sentry_issues_bucket',
  'sentry_issues_gcount',
  'sentry_issues_gsum',
  'sentry_open_issue_events',
  'sentry_events_total',
  'sentry_outcomes_total',
  'sentry_outcome_bytes_total',
  'sentry_outcome_seconds_total',
  'sentry_rate_limit_events_sec',
  'sentry_monitor_status',
  'sentry_monitor_muted',
  'sentry_monitor_last_checkin_timestamp_seconds',
  'sentry_monitor_next_checkin_latest_timestamp_seconds',
  'sentry_sessions_total',
  'sentry_crash_free_sessions_ratio',
  'sentry_crash_free_users_ratio',
  'sentry_release_crash_free_sessions_ratio',
  'sentry_release_crash_free_users_ratio',
  'sentry_exporter_release_health_releases_dropped',
  'sentry_transaction_duration_seconds',
  'sentry_transaction_failure_ratio',
  'sentry_transaction_throughput_per_second',
  'sentry_transactions_in_window',
  'sentry_transaction_names_truncated',
  'sentry_quota_usage_total',
  'sentry_quota_budget',
  'sentry_billing_cycle_start_timestamp_seconds',
  'sentry_billing_cycle_end_timestamp_seconds',
  'sentry_project_info',
  'sentry_organization_info',
  'sentry_exporter_up',
  'sentry_exporter_build_info',
  'sentry_exporter_collection_duration_seconds',
  'sentry_exporter_last_success_timestamp_seconds',
  'sentry_exporter_collector_interval_seconds',
  'sentry_exporter_collection_errors_total',
  'sentry_exporter_cycle_duration_seconds',
  'sentry_exporter_cycles_total',
  'sentry_exporter_cycles_skipped_total',
  'sentry_exporter_api_requests_total',
  'sentry_exporter_api_rate_limit_remaining',
  'sentry_exporter_open_issue_series_dropped',
  'sentry_exporter_release_lookups_failed_total',
  'sentry_exporter_api_deprecated',
  'sentry_exporter_auth_failures_total',
  'sentry_exporter_token_reloads_total',
  'sentry_exporter_duplicate_items_total',
  'sentry_exporter_items_skipped_total',
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
  'up',
]);

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

export function metricNames(expr: string): string[] {
  const names: string[] = [];
  // {__name__=~"a|b"} selects by name.
  for (const m of expr.matchAll(/__name__\s*=~?\s*"([^"]*)"/g)) names.push(...m[1]!.split('|'));
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b\d+(ms|[smhdwy])\b/g, ' ') // offset durations
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = stripped.slice(m.index + word.length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(word)) continue;
    if (/^(e|inf|nan)$/i.test(word)) continue;
    names.push(word);
  }
  return names;
}
