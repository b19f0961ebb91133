/** The Sentry simulator: a real HTTP server answering like sentry.io, for tests, the demo and benchmarks. */
export { startSimulator } from './server.js';
export { ACCEPTED_QUERY_PARAMS } from './routes.js';
export type {
  Faults,
  GroundTruth,
  OpenIssueTruth,
  SentrySimulator,
  SimOptions,
  SimMode,
  TokenStatus,
  TransactionTruth,
} from './types.js';
export type { EventsRelease } from './events.js';
