/**
 * The lint rules that keep the test suite failing fast and readably (eslint.config.js). An assert.ok or
 * assert() without a message gets its message from the source of the call when it fails: under tsx that is
 * at best the call's first line, and on Node.js 20 building it can block the test for minutes
 * (docs/development.md, "Assertion messages"). ESLint refuses such calls in test files; this test makes sure
 * the rule stays in the configuration and catches every form of the call.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function lintAsTestFile(code: string): Promise<Array<{ line: number; rule: string | null }>> {
  const eslint = new ESLint({ cwd: repo });
  const [result] = await eslint.lintText(code, { filePath: path.join(repo, 'test/example.test.ts') });
  assert.ok(result, 'ESLint returns a result for the text');
  return result.messages.map((m) => ({ line: m.line, rule: m.ruleId }));
}

test('ESLint refuses assert.ok and assert() without a message in test files, one line or several', async () => {
  const code = [
    "import assert from 'node:assert/strict';",
    'const v = Number(process.env.V);',
    'assert.ok(v === 2);',
    'assert.ok(',
    '  v === 2,',
    ');',
    'assert(v === 2);',
    "assert.ok(v === 1, 'V is 1');",
    "assert(v === 1, 'V is 1');",
    "assert.ok(\n  v === 1,\n  'V is 1',\n);",
    'assert.equal(v, 1);',
    '',
  ].join('\n');
  assert.deepEqual(await lintAsTestFile(code), [
    { line: 3, rule: 'no-restricted-syntax' },
    { line: 4, rule: 'no-restricted-syntax' },
    { line: 7, rule: 'no-restricted-syntax' },
  ]);
});
