/**
 * Tests that need a program from outside the repository (Debian's prometheus and promtool, helm or the
 * offline Helm renderer) go through this module, so a missing program is never a silent pass: under
 * `CI=true` the test fails naming what to install; on a developer's machine it is skipped with one line
 * that says the same. See docs/development.md.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';

export interface Tool {
  /** What the skip line and the failure call the program. */
  name: string;
  /** How to get it, e.g. `apt-get install prometheus`. */
  install: string;
  /** True when the program can be used; evaluated once per test file. */
  available: () => boolean;
}

/** True when `CI` is set to anything but an explicit no (CI systems set `CI=true`). */
export function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && !/^(|0|false|no)$/i.test(ci.trim());
}

/** The absolute path of `command` on PATH, or undefined. */
export function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory; try the next one
    }
  }
  return undefined;
}

/** A program found on PATH. */
export function commandTool(command: string, install: string): Tool {
  let found: boolean | undefined;
  return {
    name: command,
    install,
    available: () => (found ??= onPath(command) !== undefined),
  };
}

/** A file from outside the repository. */
export function fileTool(file: string, name: string, install: string): Tool {
  let found: boolean | undefined;
  return {
    name,
    install,
    available: () => {
      if (found === undefined) {
        try {
          accessSync(file, constants.R_OK);
          found = true;
        } catch {
          found = false;
        }
      }
      return found;
    },
  };
}

/** Sentry's published OpenAPI spec, in the shared folder beside the checkout (../shared/sentry-api). */
export const OPENAPI_SPEC_FILE = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '../../../shared/sentry-api/openapi-derefed.json',
);
export const OPENAPI_SPEC = fileTool(
  OPENAPI_SPEC_FILE,
  "Sentry's OpenAPI spec (../shared/sentry-api/openapi-derefed.json)",
  'check out the shared folder beside this repository',
);

export const PROMETHEUS = commandTool('prometheus', 'apt-get install prometheus (Debian)');
export const CHROMIUM = commandTool('chromium', 'apt-get install chromium (Debian)');
export const PROMTOOL = commandTool('promtool', 'apt-get install prometheus (Debian)');

/** The tools of `tools` that are not available. */
export function missingTools(tools: readonly Tool[]): Tool[] {
  return tools.filter((tool) => !tool.available());
}

/** One line naming each missing tool and how to install it. */
export function describeMissing(missing: readonly Tool[]): string {
  return missing.map((tool) => `needs ${tool.name}: ${tool.install}`).join('; ');
}

/**
 * Wraps a test body: it runs when every tool is available. Otherwise the test fails under CI=true, and is
 * skipped elsewhere, with one line naming the tools and how to install them.
 */
export function needing(
  tools: readonly Tool[],
  body: (t: TestContext) => unknown,
): (t: TestContext) => Promise<void> {
  return async (t) => {
    const missing = missingTools(tools);
    if (missing.length > 0) {
      const line = describeMissing(missing);
      if (inCi()) throw new Error(`${line} (CI=true: a missing tool fails the test instead of skipping it)`);
      t.skip(line);
      return;
    }
    await body(t);
  };
}

/** `test` for tests that all need the same tools: `const promtoolTest = testNeeding([PROMTOOL])`. */
export function testNeeding(tools: readonly Tool[]) {
  return (name: string, body: (t: TestContext) => unknown): void => {
    test(name, needing(tools, body));
  };
}
