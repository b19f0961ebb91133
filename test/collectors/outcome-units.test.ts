/**
 * The unit of each outcome category, as relay defines it (`CategoryUnit::from_category`,
 * relay-base-schema/src/data_category.rs): stats_v2 sums quantities as stored, so an attachment's quantity
 * is bytes and a profile duration's is milliseconds; every other known category counts items. A category
 * the exporter does not know has no unit (it is exported as a count and logged once).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unitOf } from '../../src/collectors/outcomes.js';

test('the unit of every category the exporter knows, written out; an unknown category has none', () => {
  const counted = [
    'error',
    'default',
    'security',
    'transaction',
    'transaction_processed',
    'transaction_indexed',
    'replay',
    'replay_video',
    'profile',
    'profile_indexed',
    'profile_chunk',
    'profile_chunk_ui',
    'profile_backend',
    'profile_ui',
    'span',
    'span_indexed',
    'log_item',
    'monitor',
    'monitor_seat',
    'metric_bucket',
    'metric_second',
    'feedback',
    'uptime',
    'attachment_item',
    'session',
    'seer_autofix',
    'seer_scanner',
    'seer_user',
    'prevent_user',
    'prevent_review',
    'size_analysis',
    'installable_build',
    'trace_metric',
  ];
  for (const category of counted) assert.equal(unitOf(category), 'count', category);
  assert.equal(unitOf('attachment'), 'bytes');
  assert.equal(unitOf('log_byte'), 'bytes');
  assert.equal(unitOf('profile_duration'), 'milliseconds');
  assert.equal(unitOf('profile_duration_ui'), 'milliseconds');
  for (const category of ['', 'made_up', 'Error', 'attachments']) assert.equal(unitOf(category), undefined);
});
