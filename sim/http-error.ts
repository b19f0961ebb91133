/** A request the simulator refuses, with Sentry's status and `detail` text. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export const NOT_FOUND = 'The requested resource does not exist';
export const PERMISSION_DENIED = 'You do not have permission to perform this action.';
