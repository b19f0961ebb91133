/**
 * The one shape of every collector: a name, its own refresh interval, `collect` (Sentry -> plain rows) and
 * `render` (rows -> metric families). The pipeline runs each collector when it is due and publishes what it
 * renders; adding a metric family is a new collector file and one entry in `index.ts`.
 *
 * The families are plain data produced here; src/metrics writes them as Prometheus text.
 */
import type { Logger } from 'pino';
import type { CoreConfig } from '../config/schema.js';
import type { SettingTree, ValueOf } from '../config/settings.js';
import type { SentryApi } from '../sentry/api.js';
import type { SkippedItems } from '../sentry/skipped.js';

type MetricType = 'gauge' | 'counter' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** Full sample name, e.g. `sentry_issues_bucket`. */
  name: string;
  labels: ReadonlyArray<readonly [string, string]>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

/** A project the exporter reports on, with the environments its series are split by. */
export interface ProjectInfo {
  id: string;
  slug: string;
  /** Empty when the project has no environments: its series carry `environment="None"`. */
  environments: string[];
  /** From the project list (sentry_project_info): the platform, null when none is set. */
  platform?: string | null;
  /** From the project list (sentry_project_info): the slugs of the owning teams, sorted. */
  teams?: readonly string[];
}

export interface CollectContext<Rows = unknown> {
  /** Fires when the run passes its deadline (SENTRY_CYCLE_DEADLINE) or the exporter shuts down. */
  signal: AbortSignal;
  /** Milliseconds since the epoch when the run started. */
  now: number;
  /** The project list from the metadata collector (empty for the metadata collector itself). */
  projects: readonly ProjectInfo[];
  /**
   * Where the run's list calls record malformed items they leave out (`CallOptions.skipped`); the pipeline
   * logs them once per run.
   */
  skipped: SkippedItems;
  /**
   * Publishes what the run already knows, before it ends, in the shape `collect` returns: the pipeline
   * renders and publishes it like a finished run's rows (at most about once a second, the latest rows
   * winning) and counts it as fresh data for readiness. A collector that takes long (one request per issue,
   * say) publishes what is complete instead of making everything wait for the slowest part. Each call
   * replaces the collector's section, so the rows must be complete and correct as far as they go: leave out
   * a series whose value is not known yet rather than publish a placeholder. Absent when the caller is not
   * the pipeline.
   */
  publish?: (rows: Rows) => void;
  /**
   * Says how far the run is (`releases`, 40 of 240): shown in the progress log of a long cycle and on the
   * status page. Absent when the caller is not the pipeline.
   */
  progress?: (what: string, done: number, total?: number) => void;
}

export interface RenderContext {
  /** SENTRY_EXPORTER_LEGACY_METRICS: the Python exporter's names and label spellings. */
  legacy: boolean;
  /** When the rows were collected (dates in labels that Sentry left empty). */
  now: Date;
}

export interface Collector<Rows = unknown> {
  /** The `collector` label of the self-metrics, and the section of the exposition it owns. */
  readonly name: string;
  /** Seconds between runs: how often its data is refreshed. */
  readonly interval: number;
  collect(ctx: CollectContext<Rows>): Promise<Rows>;
  /** The families to publish; [] when the collector exports nothing itself. */
  render(rows: Rows, ctx: RenderContext): Family[];
}

/** What every collector is built with. */
export interface CollectorDeps {
  api: SentryApi;
  /** Its lines carry `collector: <name>`. */
  logger: Logger;
}

/**
 * A collector as the exporter knows it before it runs: its name, the settings it declares (under
 * `collectors.<name>` in a settings file, each with its environment variable) and how it is built from
 * them. A new metric family is a file that exports one of these, and one entry in `index.ts`.
 */
export interface CollectorDefinition<N extends string = string, S extends SettingTree = SettingTree> {
  readonly name: N;
  readonly settings: S;
  /** The collector, or undefined when its settings turn it off. */
  create(deps: CollectorDeps, settings: ValueOf<S>, core: CoreConfig): Collector | undefined;
}

export function defineCollector<N extends string, S extends SettingTree>(
  definition: CollectorDefinition<N, S>,
): CollectorDefinition<N, S> {
  return definition;
}

/**
 * Plain string order, for ids, slugs and label values. `localeCompare` would do too, but it loads ICU's
 * collation data, a few megabytes of resident memory for nothing.
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** HELP text ending shared by every family: when its values are refreshed. */
export function refreshedEvery(seconds: number): string {
  return `Collected in the background every ${seconds}s.`;
}
