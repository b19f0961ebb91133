/**
 * The collectors, in the order their families appear in the exposition, and the settings they declare. A
 * new metric family is a new collector file and one entry in COLLECTORS.
 */
import type { Logger } from 'pino';
import { loadConfig, settingsOf } from '../config/load.js';
import type { Config, LoadOptions, SettingsOf } from '../config/load.js';
import type { SentryApi } from '../sentry/api.js';
import type { Collector, CollectorDefinition, ProjectInfo } from './collector.js';
import { issues } from './issues.js';
import { MetadataCollector } from './metadata.js';
import { monitors } from './monitors.js';
import { outcomes } from './outcomes.js';
import { performance } from './performance.js';
import { quota } from './quota.js';
import { rateLimits } from './rate-limits.js';
import { releaseHealth } from './sessions.js';

const COLLECTORS = [issues, outcomes, quota, rateLimits, monitors, releaseHealth, performance] as const;

type Definitions = (typeof COLLECTORS)[number];
/** Each collector's settings under its name: `collectors.<name>.*` in a settings file. */
export type CollectorSettings = { [D in Definitions as D['name']]: D['settings'] };

const COLLECTOR_SETTINGS = Object.fromEntries(
  COLLECTORS.map((d) => [d.name, d.settings]),
) as CollectorSettings;

/** Every setting of the exporter: the core ones and each collector's. */
export const SETTINGS: SettingsOf<CollectorSettings> = settingsOf(COLLECTOR_SETTINGS);

/** The exporter's configuration, as loaded: see `loadExporterConfig`. */
export type ExporterConfig = Config<CollectorSettings>;

/** Loads the exporter's configuration (config/load.ts) with every collector's settings. */
export function loadExporterConfig(opts: LoadOptions): ExporterConfig {
  return loadConfig(COLLECTOR_SETTINGS, opts);
}

export interface CollectorSet {
  /**
   * The project list every other collector splits its series by; runs first, and exports the project and
   * organization info families.
   */
  metadata: Collector<ProjectInfo[]>;
  /** The collectors that export families, each enabled by its settings. */
  metrics: Collector[];
  /** The collectors their settings turn off. */
  disabled: string[];
}

export function createCollectors(config: ExporterConfig, api: SentryApi, logger: Logger): CollectorSet {
  const deps = (name: string) => ({ api, logger: logger.child({ collector: name }) });
  const metrics: Collector[] = [];
  const disabled: string[] = [];
  for (const definition of COLLECTORS as readonly CollectorDefinition[]) {
    // Each definition's own settings, as loaded from its declaration (the list's types are one union).
    const settings = (config.collectors as Record<string, unknown>)[definition.name];
    const collector = definition.create(deps(definition.name), settings as never, config);
    if (collector === undefined) disabled.push(definition.name);
    else metrics.push(collector);
  }
  return {
    metadata: new MetadataCollector(deps('metadata'), {
      projects: config.sentry.projects,
      interval: config.schedule.metadataInterval,
      org: config.sentry.org,
      baseUrl: config.sentry.baseUrl,
    }),
    metrics,
    disabled,
  };
}
