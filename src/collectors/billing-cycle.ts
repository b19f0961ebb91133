/**
 * The organization's billing cycle (SENTRY_BILLING_CYCLE_DAY): the counting period of every month-to-date
 * counter (outcomes, events, sessions, quota usage). A cycle starts on its day of the month at 00:00 UTC and
 * ends where the next one starts, a month later; with day 1 it is the calendar month. A cycle that started in
 * the previous month (day 15, on 6 December: since 15 November) is one range.
 */

export interface BillingCycle {
  /** Milliseconds since the epoch: the first instant of the cycle. */
  start: number;
  /** Milliseconds since the epoch: the first instant of the next cycle. */
  end: number;
}

/** The cycle `now` falls in; `day` is 1 to 28, so every month has it. */
export function billingCycle(now: number, day: number): BillingCycle {
  const d = new Date(now);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() - (d.getUTCDate() >= day ? 0 : 1);
  // Date.UTC carries a month of -1 or 12 into the year before or after.
  return { start: Date.UTC(year, month, day), end: Date.UTC(year, month + 1, day) };
}

/**
 * The range a stats_v2 question about the cycle so far asks for: from the cycle's first instant to `now`.
 * Sentry refuses start >= end, so at the cycle's very first instant the range is its first second.
 */
export function cycleSoFar(now: number, day: number): { start: Date; end: Date } {
  const { start } = billingCycle(now, day);
  return { start: new Date(start), end: new Date(Math.max(now, start + 1000)) };
}

function ordinal(day: number): string {
  const tens = Math.floor(day / 10) % 10;
  const suffix = tens === 1 ? 'th' : (['th', 'st', 'nd', 'rd'][day % 10] ?? 'th');
  return `${day}${suffix}`;
}

/**
 * How HELP texts name the counting period: `period` ("this calendar month (UTC)") and the sentence that says
 * when it resets.
 */
export function cycleWording(day: number): { period: string; reset: string } {
  return day === 1
    ? { period: 'this calendar month (UTC)', reset: 'Resets at the start of a month.' }
    : {
        period: `this billing cycle (since the ${ordinal(day)} of the month, 00:00 UTC)`,
        reset: `Resets when the next cycle starts, on the ${ordinal(day)}.`,
      };
}
