import type { Logger } from 'pino';
import type { SkippedItems } from '../sentry/request.js';

/**
 * One log line per collector run for the malformed items its list answers held (left out, and counted in
 * sentry_exporter_items_skipped_total): per endpoint, how many, and the first problem, naming the URL and
 * the field. Nothing when there were none.
 */
export function logSkipped(logger: Logger, collector: string, skipped: SkippedItems): void {
  if (skipped.count === 0) return;
  logger.warn(
    { collector, skipped: skipped.toLog() },
    'malformed items left out of Sentry answers this run; the rest of each answer is used',
  );
}
