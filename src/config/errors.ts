/**
 * Bad configuration, found at start-up. Each problem names the environment variable (or config-file key)
 * and what is wrong; the entry point prints one line per problem and exits with status 2.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}
