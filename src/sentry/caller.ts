import { AsyncLocalStorage } from 'node:async_hooks';

/** Who a Sentry call is made for, and the requests it has made so far (each attempt and page counts). */
export interface Caller {
  readonly name: string;
  requests: number;
}

/**
 * The caller of the calls made inside `callerScope.run(caller, ...)`: the pipeline runs each collector in
 * a scope of its own, so that the requests it makes are counted for it without every call naming it. The
 * request loop reads it when a call starts (the queue runs the request later, in another context).
 */
export const callerScope = new AsyncLocalStorage<Caller>();
