/** The reference generated from the settings' declarations is what the repository holds. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SETTINGS } from '../../src/collectors/index.js';
import { listSettings } from '../../src/config/settings.js';
import { configurationDoc, defaultYaml, repo } from './reference.js';

test('docs/configuration.md has the settings table of every declared setting (npm run docs:reference)', () => {
  const doc = readFileSync(path.join(repo, 'docs/configuration.md'), 'utf8');
  assert.equal(doc, configurationDoc(doc), 'run npm run docs:reference and commit the result');
  for (const s of listSettings(SETTINGS))
    assert.ok(doc.includes(`| \`${s.env}\` | \`${s.path}\` |`), `a row for ${s.env}`);
  assert.ok(doc.includes('`SENTRY_EXPORTER_CONFIG`'), 'the settings file variable is named');
});

test('config/default.yaml is every setting with its default (it is loaded in test/config/load.test.ts)', () => {
  const text = readFileSync(path.join(repo, 'config/default.yaml'), 'utf8');
  assert.equal(text, defaultYaml(), 'run npm run docs:reference and commit the result');
});
