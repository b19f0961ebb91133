/**
 * Sentry's issue search syntax, the subset an exporter uses: `is:` status filters, `age:` / `firstSeen:` /
 * `lastSeen:` time filters (relative `-1h`, `+14d` or compared with an ISO date), `level:` and free text
 * (matched against the title). A `key:value` with an unknown key behaves like a tag filter no issue matches,
 * as a tag search for an absent tag does in Sentry.
 */
import { parseDuration } from './durations.js';

type TimeField = 'firstSeen' | 'lastSeen';

/** Bound on a timestamp: `min` inclusive, `max` exclusive; relative bounds are milliseconds before now. */
interface TimeBound {
  field: TimeField;
  /** Either an absolute ms timestamp or a duration ago, resolved against the clock at match time. */
  kind: 'after' | 'before';
  absolute?: number;
  agoMs?: number;
}

export interface ParsedSearch {
  statuses: Set<string> | null;
  excludedStatuses: Set<string>;
  levels: Set<string> | null;
  excludedLevels: Set<string>;
  bounds: TimeBound[];
  text: string;
  /** True when a filter can never match (unknown tag key, is:assigned in a sim with no assignees). */
  matchesNothing: boolean;
}

export class SearchSyntaxError extends Error {}

const STATUS_VALUES: Record<string, string> = {
  unresolved: 'unresolved',
  resolved: 'resolved',
  ignored: 'ignored',
  archived: 'ignored',
};

function tokenize(query: string): string[] {
  const tokens: string[] = [];
  const re = /(?:[^\s"]+|"[^"]*")+/g;
  let match: RegExpExecArray | null;
  while ((match = re.exec(query)) !== null) tokens.push(match[0]);
  return tokens;
}

function parseTimeValue(field: TimeField, key: string, value: string): TimeBound {
  const relative = /^([+-])(.+)$/.exec(value);
  if (relative) {
    const ago = parseDuration(relative[2] ?? '');
    if (ago === undefined) throw new SearchSyntaxError(`Invalid format for "${key}" search: ${value}`);
    // `-1h`: within the last hour (after now-1h); `+1h`: more than an hour ago.
    return { field, kind: relative[1] === '-' ? 'after' : 'before', agoMs: ago };
  }
  const compare = /^(>=|<=|>|<)(.+)$/.exec(value);
  if (compare) {
    const at = Date.parse(compare[2] ?? '');
    if (Number.isNaN(at)) throw new SearchSyntaxError(`Invalid format for "${key}" search: ${value}`);
    const op = compare[1] ?? '>';
    // Millisecond timestamps make > and >= (and < and <=) differ by one ms at most.
    if (op === '>') return { field, kind: 'after', absolute: at + 1 };
    if (op === '>=') return { field, kind: 'after', absolute: at };
    if (op === '<') return { field, kind: 'before', absolute: at };
    return { field, kind: 'before', absolute: at + 1 };
  }
  throw new SearchSyntaxError(`Invalid format for "${key}" search: ${value}`);
}

export function parseSearch(query: string): ParsedSearch {
  const parsed: ParsedSearch = {
    statuses: null,
    excludedStatuses: new Set(),
    levels: null,
    excludedLevels: new Set(),
    bounds: [],
    text: '',
    matchesNothing: false,
  };
  const text: string[] = [];
  for (const token of tokenize(query)) {
    const colon = token.indexOf(':');
    if (colon <= 0 || token.startsWith('"')) {
      text.push(token.replace(/"/g, ''));
      continue;
    }
    const negated = token.startsWith('!');
    const key = token.slice(negated ? 1 : 0, colon);
    const value = token.slice(colon + 1).replace(/"/g, '');
    switch (key) {
      case 'is': {
        if (value === 'assigned' || value === 'for_review' || value === 'linked') {
          if (!negated) parsed.matchesNothing = true;
          break;
        }
        if (value === 'unassigned' || value === 'unlinked') {
          if (negated) parsed.matchesNothing = true;
          break;
        }
        const status = STATUS_VALUES[value];
        if (status === undefined) {
          throw new SearchSyntaxError(
            `Invalid value for "is" search, valid values are [unresolved, resolved, ignored, archived, assigned, unassigned, for_review, linked, unlinked]`,
          );
        }
        if (negated) parsed.excludedStatuses.add(status);
        else (parsed.statuses ??= new Set()).add(status);
        break;
      }
      case 'age':
      case 'firstSeen':
        parsed.bounds.push(parseTimeValue('firstSeen', key, value));
        break;
      case 'lastSeen':
        parsed.bounds.push(parseTimeValue('lastSeen', key, value));
        break;
      case 'level': {
        const levels = value
          .replace(/^\[|\]$/g, '')
          .split(',')
          .filter(Boolean);
        const target = negated ? parsed.excludedLevels : (parsed.levels ??= new Set());
        for (const level of levels) target.add(level);
        break;
      }
      default:
        if (!negated) parsed.matchesNothing = true;
    }
  }
  parsed.text = text.join(' ').trim().toLowerCase();
  return parsed;
}
