/** How each format reads a value from the environment (a string) or a settings file, and what it says when it cannot. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGoDuration } from '../../src/config/duration.js';
import {
  baseUrl,
  boolean,
  duration,
  logLevel,
  number,
  port,
  slugList,
  text,
  type Format,
} from '../../src/config/formats.js';

function value<T>(format: Format<T>, raw: unknown): T {
  const r = format.read(raw);
  assert.ok(
    'value' in r,
    `expected a value for ${JSON.stringify(raw)}, got the problem ${JSON.stringify(r)}`,
  );
  return r.value;
}

function problem<T>(format: Format<T>, raw: unknown): string {
  const r = format.read(raw);
  assert.ok('problem' in r, `expected a problem for ${JSON.stringify(raw)}, got ${JSON.stringify(r)}`);
  return r.problem;
}

test('durations: seconds, or a number with a unit as Prometheus users write them; the message says the unit', () => {
  const positive = duration({ zero: false });
  assert.equal(value(positive, '60'), 60);
  assert.equal(value(positive, 60), 60, 'a number in a settings file');
  assert.equal(value(positive, ' 0.5 '), 0.5);
  assert.equal(value(positive, '90s'), 90);
  assert.equal(value(positive, '1m'), 60);
  assert.equal(value(positive, '1m30s'), 90);
  assert.equal(value(positive, '2h'), 7200);
  assert.equal(value(positive, '500ms'), 0.5);
  assert.equal(value(positive, '1.5h'), 5400);
  assert.equal(
    problem(positive, '1x'),
    'must be a duration greater than 0: seconds (e.g. 60) or a number with a unit (90s, 1m, 2h), got "1x"',
  );
  assert.match(problem(positive, '0'), /^must be a duration greater than 0: /);
  assert.match(problem(positive, '-5'), /got "-5"$/);
  assert.match(problem(positive, 'soon'), /got "soon"$/);
  assert.match(problem(positive, true), /got true$/);
  const zero = duration({ zero: true });
  assert.equal(value(zero, '0'), 0, 'zero where it means "derived"');
  assert.equal(value(zero, '0s'), 0);
  assert.match(problem(zero, '-1'), /^must be a duration of 0 or more: /);
  // The Go duration reader itself: every unit, fractions, and what it refuses.
  assert.equal(parseGoDuration('1h2m3s4ms'), 3_723_004);
  assert.equal(parseGoDuration('250us'), 0.25);
  assert.equal(parseGoDuration('5'), undefined, 'a number without unit is not a Go duration');
  assert.equal(parseGoDuration('1d'), undefined, 'Go has no days');
  assert.equal(parseGoDuration('1m junk'), undefined);
});

test('booleans: the Python exporter\'s "True"/"False" and the usual words, in any case', () => {
  for (const yes of ['True', 'true', 'TRUE', '1', 'yes', 'on', ' on ', true])
    assert.equal(value(boolean, yes), true, String(yes));
  for (const no of ['False', 'false', '0', 'no', 'off', false])
    assert.equal(value(boolean, no), false, String(no));
  assert.equal(problem(boolean, 'sure'), 'must be True or False (also true/false, 1/0, yes/no), got "sure"');
  assert.match(problem(boolean, 1), /got 1$/, 'a number in a file is not a boolean');
});

test('numbers: bounds, whole numbers, and what was given', () => {
  const positiveInt = number({ min: 1, integer: true });
  assert.equal(value(positiveInt, '3'), 3);
  assert.equal(problem(positiveInt, '2.5'), 'must be a whole number of 1 or more, got "2.5"');
  assert.equal(problem(positiveInt, '0'), 'must be a whole number of 1 or more, got "0"');
  const rate = number({ min: 0, above: true });
  assert.equal(value(rate, '0.5'), 0.5);
  assert.equal(problem(rate, 'fast'), 'must be a number greater than 0, got "fast"');
  assert.equal(problem(rate, ''), 'must be a number greater than 0, got ""');
  assert.equal(problem(rate, 'Infinity'), 'must be a number greater than 0, got "Infinity"');
  assert.equal(
    problem(number({ min: 1, max: 28, integer: true }), '29'),
    'must be a whole number from 1 to 28, got "29"',
  );
  assert.equal(value(port, '0'), 0);
  assert.equal(problem(port, '70000'), 'must be a port number from 0 to 65535, got "70000"');
});

test('the base URL: http(s), always ending with a slash', () => {
  assert.equal(value(baseUrl, 'https://sentry.example.com/api/0'), 'https://sentry.example.com/api/0/');
  assert.equal(value(baseUrl, ' https://sentry.io/api/0/ '), 'https://sentry.io/api/0/');
  assert.equal(
    problem(baseUrl, 'not a url'),
    'must be an http(s) URL such as https://sentry.io/api/0/, got "not a url"',
  );
  assert.equal(problem(baseUrl, 'ftp://x/'), 'must be an http(s) URL, got the scheme "ftp:"');
});

test('lists of slugs, log levels, and text that never quotes a secret', () => {
  assert.deepEqual(value(slugList, 'web, api,,web'), ['web', 'api']);
  assert.deepEqual(value(slugList, ['a', ' b ']), ['a', 'b'], 'a list in a settings file');
  assert.equal(problem(slugList, [1]), 'must be a comma-separated list of project slugs');
  assert.equal(value(logLevel, 'WARNING'), 'warn', "Python's name");
  assert.equal(value(logLevel, 'critical'), 'fatal');
  assert.equal(value(logLevel, 'Debug'), 'debug');
  assert.equal(
    problem(logLevel, 'loud'),
    'must be one of trace, debug, info, warn, error, fatal, silent (or a Python level name), got "loud"',
  );
  assert.equal(value(text(), '  acme '), 'acme');
  assert.equal(value(text({ trim: false }), ' p '), ' p ');
  assert.equal(problem(text(), ['secret-token']), 'must be a string, got a list', 'the value is not quoted');
  assert.equal(problem(text(), 12), 'must be a string, got a number');
});
