/**
 * The status page in a real browser (Debian's Chromium, driven by playwright-core): against the simulator
 * with stats_v2 refused (403), the outcomes collector shows failing with the status and Sentry's detail,
 * every other collector ok with the age of its last success. A screenshot is kept in test-output/ for
 * people to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startSimulator } from '../../sim/index.js';
import { healthWhen, startExporterAgainst } from '../helpers/exporter.js';
import { CHROMIUM, onPath, testNeeding } from '../helpers/tools.js';

const OUTPUT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../test-output');

testNeeding([CHROMIUM])(
  'the status page, opened in Chromium, shows the refused collector failing with 403 and the detail, the others ok with their age',
  async () => {
    const sim = await startSimulator({
      seed: 8,
      projects: 4,
      environmentsPerProject: 2,
      issuesPerProject: 10,
    });
    sim.setFaults({ forbiddenRate: 1, endpoints: ['/organizations/{org}/stats_v2/'] });
    const { exporter } = await startExporterAgainst(sim, {
      SENTRY_API_RATE: '40',
      SENTRY_SCRAPE_RATE_LIMIT_METRICS: 'True',
    });
    const browser = await chromium.launch({
      executablePath: onPath('chromium'),
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      await exporter.collection.runCycle();
      await healthWhen(
        exporter.url,
        'the outcomes collector failing',
        (b) => b.collectors.outcomes?.state === 'failing',
      );
      const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
      const response = await page.goto(`${exporter.url}/`);
      assert.equal(response?.status(), 200, 'the page answers 200');
      const rowOf = async (name: string) =>
        (await page.locator('tr', { has: page.locator(`td code:text-is("${name}")`) }).innerText()).replace(
          /\s+/g,
          ' ',
        );
      const outcomes = await rowOf('outcomes');
      assert.match(outcomes, /failing/, `outcomes row: ${outcomes}`);
      assert.match(outcomes, /HTTP 403/, `with the status: ${outcomes}`);
      assert.match(outcomes, /\/organizations\/\{org\}\/stats_v2\//, `and the endpoint: ${outcomes}`);
      assert.match(
        outcomes,
        /Sentry: “You do not have permission to perform this action\.”/,
        `and the detail: ${outcomes}`,
      );
      for (const name of ['metadata', 'issues', 'monitors', 'release_health', 'rate_limits']) {
        const row = await rowOf(name);
        assert.match(row, /\bok\b/, `${name} is ok: ${row}`);
        assert.match(row, /\d+ (s|min) ago/, `${name} shows the age of its last success: ${row}`);
      }
      assert.match(
        await rowOf('performance'),
        /disabled/,
        'a collector its settings turn off is listed as disabled',
      );
      const body = await page.locator('body').innerText();
      assert.match(body, /Organization\s+acme/, 'the organization');
      assert.match(body, /\d+ series in the exposition/, 'the series in all');
      assert.doesNotMatch(body, new RegExp(sim.token), 'never the token');
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: path.join(OUTPUT, 'status-page.png'), fullPage: true });
    } finally {
      await browser.close();
      await exporter.stop();
      await sim.close();
    }
  },
);
