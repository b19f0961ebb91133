import { part } from './base.mjs';

/**
 * The configuration: the settings' declarations and their loading (defaults, settings file, environment),
 * the formats and their messages, durations, the token file and the watched file behind it.
 */
export default part('config', {
  mutate: ['src/config/**/*.ts'],
  testFiles: [
    'test/config/load.test.ts',
    'test/config/token-file.test.ts',
    'test/config/formats.test.ts',
    'test/http/web-config.test.ts',
    'test/docs/reference.test.ts',
  ],
});
