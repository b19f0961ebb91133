import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptsGzip } from '../../src/http/accept-encoding.js';

test('acceptsGzip follows RFC 9110 weights', () => {
  const cases: Array<[string | string[] | undefined, boolean]> = [
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZip', true],
    ['x-gzip', true],
    ['deflate, gzip;q=1.0, *;q=0.5', true],
    ['gzip;q=0', false],
    ['gzip; q=0.000', false],
    ['gzip;q=0.001', true],
    ['*', true],
    ['*;q=0', false],
    ['*, gzip;q=0', false],
    ['gzip;q=0, *', false],
    ['br, deflate', false],
    ['identity', false],
    ['gzip;q=abc', false],
    ['gzip;q=1.5', false],
    [['br', 'gzip'], true],
  ];
  for (const [header, expected] of cases) assert.equal(acceptsGzip(header), expected, JSON.stringify(header));
});
