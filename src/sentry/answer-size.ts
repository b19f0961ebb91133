/**
 * What one answer may cost before it is parsed. The body limit (MAX_RESPONSE_BYTES) bounds bytes, not
 * memory: `JSON.parse` of ten megabytes of `[[],[],…]` builds 3.5 million arrays (about 250 MB), and the
 * parse that follows would look at each. A scan of the text counts, without building anything, the items of
 * the answer's list and its JSON values, and an answer past either cap is refused before `JSON.parse`.
 *
 * The caps are a few times what Sentry sends at most (docs/sentry-api.md): never more than 100 items a page
 * on the paginated lists; stats_v2 cuts at 10,000 groups; sessions at ⌊10,000 ÷ intervals⌋ metric groups,
 * five output groups each when grouped by status.
 */
import { ENDPOINTS, type EndpointTemplate } from './endpoints.js';
import { SentryApiError } from './errors.js';
import { unexpected, type ParseContext } from './json.js';

/** Where an endpoint's items are, and how many one answer may hold. */
export interface ItemCap {
  /** `''`: the body is the list; a key: the list is that key's value in the body object. */
  at: string;
  max: number;
  /** What Sentry sends at most, for the message. */
  sentry: string;
}

/** Items of one page of a paginated list: Sentry sends at most 100 (PAGE_SIZE), so three times that. */
export const MAX_PAGE_ITEMS = 300;

/** JSON values (counted as containers and separators) of any one answer. */
export const MAX_ANSWER_VALUES = 1_000_000;

/** Per endpoint: where its list is and how many items one answer may hold; none for single objects. */
export const ITEM_CAPS: Readonly<Record<EndpointTemplate, ItemCap | undefined>> = {
  [ENDPOINTS.index]: undefined,
  [ENDPOINTS.currentRelease]: undefined,
  [ENDPOINTS.projects]: page(''),
  [ENDPOINTS.issues]: page(''),
  [ENDPOINTS.projectKeys]: page(''),
  [ENDPOINTS.organizationProjectKeys]: page(''),
  [ENDPOINTS.monitors]: page(''),
  [ENDPOINTS.events]: page('data'),
  // Not paginated: every visible environment of one project in one answer.
  [ENDPOINTS.environments]: { at: '', max: 10_000, sentry: "a project's environments, unpaginated" },
  // 10,000 rows at most (snuba/outcomes.py), twice that.
  [ENDPOINTS.statsV2]: { at: 'groups', max: 20_000, sentry: 'at most 10,000 groups' },
  // 10,000 metric groups at most, five output groups each by session.status: 50,000, and a margin.
  [ENDPOINTS.sessions]: { at: 'groups', max: 60_000, sentry: 'at most 50,000 groups' },
};

function page(at: string): ItemCap {
  return { at, max: MAX_PAGE_ITEMS, sentry: 'at most 100 a page' };
}

export interface AnswerSize {
  /** Items of the list at `cap.at` (as far as counted: the scan stops past a cap). */
  items: number;
  /** JSON values, counted as containers opened and separators (as far as counted). */
  values: number;
  /** Which cap the answer passed, if one. */
  over: 'items' | 'values' | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Refuses, before it is parsed, an answer of `endpoint` whose list holds more items than ITEM_CAPS allows or
 * whose body holds more than MAX_ANSWER_VALUES values. A body that does not start like JSON is left to
 * `JSON.parse`, which says what it is.
 */
export function checkAnswerSize(ctx: ParseContext, endpoint: EndpointTemplate, body: string): void {
  let start = 0;
  while (start < body.length && isSpace(body.charCodeAt(start))) start++;
  const first = body.charCodeAt(start);
  if (first !== OPEN_ARRAY && first !== OPEN_OBJECT) return;
  const cap = ITEM_CAPS[endpoint];
  const size = measureAnswer(body, cap, MAX_ANSWER_VALUES);
  if (size.over === undefined) return;
  const what =
    size.over === 'items'
      ? `${cap?.at === '' ? 'the answer' : `its "${cap?.at}"`} holds more than ${cap?.max} items (Sentry sends ${cap?.sentry})`
      : `the answer holds more than ${MAX_ANSWER_VALUES} JSON values`;
  throw new SentryApiError(
    `${unexpected(ctx)}${what}; refused unread (${body.length} bytes), so that no answer can take the exporter's memory`,
    { kind: 'parse', endpoint, project: ctx.project },
  );
}

/**
 * Counts, in one pass over the text and without allocating per value, the items of the list at `cap.at`
 * and the values of the whole body; stops as soon as one passes its cap. Text that is not JSON gives
 * meaningless counts: `JSON.parse` refuses it next.
 */
export function measureAnswer(body: string, cap: ItemCap | undefined, maxValues: number): AnswerSize {
  const n = body.length;
  let depth = 0;
  let values = 0;
  let items = 0;
  /** Depth of the counted list's items; -1 before it is found and after it ends. */
  let itemDepth = -1;
  /** Inside the counted list: nothing but whitespace seen yet. */
  let emptySoFar = false;
  /** At depth 1 of an object body: the next string is a key. */
  let expectKey = false;
  /** The last key at depth 1 was `cap.at`, and its value has not started. */
  let keyMatched = false;
  const target = cap?.at ?? '';
  let i = 0;
  while (i < n && isSpace(body.charCodeAt(i))) i++;
  if (cap !== undefined && target === '' && body.charCodeAt(i) === OPEN_ARRAY) {
    itemDepth = 1;
    emptySoFar = true;
  }
  for (; i < n; i++) {
    const c = body.charCodeAt(i);
    if (c === QUOTE) {
      // The closing quote is the next one not escaped by an odd number of backslashes.
      let end = body.indexOf('"', i + 1);
      while (end !== -1) {
        let backslashes = 0;
        for (let j = end - 1; body.charCodeAt(j) === BACKSLASH; j--) backslashes++;
        if (backslashes % 2 === 0) break;
        end = body.indexOf('"', end + 1);
      }
      if (end === -1) end = n;
      if (depth === 1 && expectKey) {
        keyMatched = end - i - 1 === target.length && body.startsWith(target, i + 1);
        expectKey = false;
      } else if (depth === itemDepth && emptySoFar) {
        emptySoFar = false;
        items++;
      }
      i = end;
      continue;
    }
    if (isSpace(c)) continue;
    if (depth === itemDepth && emptySoFar && c !== CLOSE_ARRAY) {
      emptySoFar = false;
      items++;
    }
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      values++;
      depth++;
      if (c === OPEN_OBJECT && depth === 1) expectKey = true;
      if (c === OPEN_ARRAY && depth === 2 && keyMatched && itemDepth === -1) {
        itemDepth = 2;
        emptySoFar = true;
      }
      keyMatched = false;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (depth === itemDepth) itemDepth = -2; // the counted list ended
      depth--;
    } else if (c === COMMA) {
      values++;
      if (depth === itemDepth) items++;
      if (depth === 1) {
        expectKey = true;
        keyMatched = false;
      }
    } else if (c !== COLON && depth === 1) {
      // A scalar value at depth 1 (not the counted list).
      keyMatched = false;
    }
    if (cap !== undefined && items > cap.max) return { items, values, over: 'items' };
    if (values > maxValues) return { items, values, over: 'values' };
  }
  return { items, values, over: undefined };
}
