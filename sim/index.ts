/** The Sentry simulator: a real HTTP server answering like sentry.io, for tests, the demo and benchmarks. */
export { startSimulator, DEFAULT_RATE_LIMIT } from './server.js';
export { ACCEPTED_QUERY_PARAMS } from './routes.js';
export type {
  CrashFreeTruth,
  EventsTruth,
  Faults,
  GroundTruth,
  IssueWindowTruth,
  MonitorTruth,
  OpenIssueTruth,
  OutcomeTruth,
  PerformanceTruthQuery,
  RateLimitTruth,
  ReleaseCrashFreeTruth,
  ReleaseHealthTruth,
  SentrySimulator,
  SessionsTruth,
  SimCounters,
  SimOptions,
  SimMode,
  SimRequestRecord,
  TokenStatus,
  TransactionTruth,
} from './types.js';
export type { EventsRelease } from './events.js';
