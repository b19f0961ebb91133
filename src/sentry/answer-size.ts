/**
 * What one answer may cost. The body limit (MAX_RESPONSE_BYTES) bounds bytes, not memory: `JSON.parse` of
 * ten megabytes of `[[],[],…]` builds 3.5 million arrays (about 250 MB), and the parse that follows would
 * look at each. As the body arrives, a scan of its bytes counts, without building anything, the items of
 * the answer's list and its JSON values; past either cap the rest is not even read, and the answer is
 * refused.
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
 * Counts the items of the list at `cap.at` and the values of the whole body as its bytes arrive, without
 * allocating per value, and stops as soon as one passes its cap. It reads UTF-8 bytes: every byte JSON's
 * structure is made of is ASCII, and no byte of a multi-byte character is. A body that does not start like
 * JSON is not counted (`JSON.parse` says what it is); one that is not JSON further on gives meaningless
 * counts, and `JSON.parse` refuses it next.
 */
export class AnswerScan implements AnswerSize {
  items = 0;
  values = 0;
  over: 'items' | 'values' | undefined;
  readonly #cap: ItemCap | undefined;
  readonly #maxValues: number;
  readonly #target: Buffer;
  /** Whether the first byte that is not whitespace was seen, and whether it started JSON. */
  #started = false;
  #json = false;
  #depth = 0;
  /** Depth of the counted list's items; -1 before it is found (-2 after it ended). */
  #itemDepth = -1;
  /** Inside the counted list: nothing but whitespace seen yet. */
  #emptySoFar = false;
  /** At depth 1 of an object body: the next string is a key. */
  #expectKey = false;
  /** The last key at depth 1 was `cap.at`, and its value has not started. */
  #keyMatched = false;
  #inString = false;
  /** The previous byte of the string was an escaping backslash. */
  #escaped = false;
  /** The string being read is a key at depth 1: compared byte by byte with the target. */
  #inKey = false;
  #keyAt = 0;
  #keyOk = true;

  constructor(cap: ItemCap | undefined, maxValues: number) {
    this.#cap = cap;
    this.#maxValues = maxValues;
    this.#target = Buffer.from(cap?.at ?? '');
  }

  /** Reads the next bytes of the body; false once a cap is passed (read no more). */
  feed(chunk: Uint8Array): boolean {
    if (this.over !== undefined) return false;
    const n = chunk.length;
    let i = 0;
    if (!this.#started) {
      while (i < n && isSpace(chunk[i]!)) i++;
      if (i === n) return true;
      this.#started = true;
      const first = chunk[i]!;
      this.#json = first === OPEN_ARRAY || first === OPEN_OBJECT;
      if (this.#json && this.#cap?.at === '' && first === OPEN_ARRAY) {
        this.#itemDepth = 1;
        this.#emptySoFar = true;
      }
    }
    if (!this.#json) return true;
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    while (i < n) {
      if (this.#inString) {
        i = this.#string(buffer, i);
        continue;
      }
      const c = buffer[i++]!;
      if (isSpace(c)) continue;
      const depth = this.#depth;
      if (depth === this.#itemDepth && this.#emptySoFar && c !== CLOSE_ARRAY) {
        this.#emptySoFar = false;
        this.items++;
      }
      if (c === QUOTE) {
        this.#inString = true;
        this.#inKey = depth === 1 && this.#expectKey;
        if (this.#inKey) {
          this.#expectKey = false;
          this.#keyAt = 0;
          this.#keyOk = true;
        }
      } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        this.values++;
        this.#depth++;
        if (c === OPEN_OBJECT && this.#depth === 1) this.#expectKey = true;
        if (c === OPEN_ARRAY && this.#depth === 2 && this.#keyMatched && this.#itemDepth === -1) {
          this.#itemDepth = 2;
          this.#emptySoFar = true;
        }
        this.#keyMatched = false;
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        if (depth === this.#itemDepth) this.#itemDepth = -2;
        this.#depth--;
      } else if (c === COMMA) {
        this.values++;
        if (depth === this.#itemDepth) this.items++;
        if (depth === 1) {
          this.#expectKey = true;
          this.#keyMatched = false;
        }
      } else if (c !== COLON && depth === 1) {
        // A scalar value at depth 1 (not the counted list).
        this.#keyMatched = false;
      }
      if (this.#cap !== undefined && this.items > this.#cap.max) {
        this.over = 'items';
        return false;
      }
      if (this.values > this.#maxValues) {
        this.over = 'values';
        return false;
      }
    }
    return true;
  }

  /** Reads string content from `i`; returns where to go on (past the closing quote, or the chunk's end). */
  #string(chunk: Buffer, i: number): number {
    const n = chunk.length;
    if (!this.#inKey) {
      // Jump to the next quote or backslash: a long string costs a memchr, not a loop.
      while (i < n) {
        if (this.#escaped) {
          this.#escaped = false;
          i++;
          continue;
        }
        const quote = chunk.indexOf(QUOTE, i);
        const backslash = chunk.indexOf(BACKSLASH, i);
        if (backslash !== -1 && (quote === -1 || backslash < quote)) {
          this.#escaped = true;
          i = backslash + 1;
          continue;
        }
        if (quote === -1) return n;
        this.#inString = false;
        return quote + 1;
      }
      return n;
    }
    for (; i < n; i++) {
      const c = chunk[i]!;
      if (this.#escaped) {
        this.#escaped = false;
        this.#keyOk = false;
        continue;
      }
      if (c === BACKSLASH) {
        this.#escaped = true;
        continue;
      }
      if (c === QUOTE) {
        this.#inString = false;
        this.#keyMatched = this.#keyOk && this.#keyAt === this.#target.length;
        return i + 1;
      }
      if (this.#keyAt >= this.#target.length || this.#target[this.#keyAt] !== c) this.#keyOk = false;
      this.#keyAt++;
    }
    return n;
  }

  /**
   * Why the answer is refused, once a cap was passed: e.g. `the answer holds more than 300 items (Sentry
   * sends at most 100 a page)`.
   */
  refusal(): string | undefined {
    if (this.over === undefined) return undefined;
    const cap = this.#cap;
    if (this.over === 'values' || cap === undefined)
      return `the answer holds more than ${this.#maxValues} JSON values`;
    return `${cap.at === '' ? 'the answer' : `its "${cap.at}"`} holds more than ${cap.max} items (Sentry sends ${cap.sentry})`;
  }
}

/** The error of an answer the scan refused (`refusal`) after reading `bytes` of it. */
export function refused(ctx: ParseContext, refusal: string, bytes: number | undefined): SentryApiError {
  return new SentryApiError(
    `${unexpected(ctx)}${refusal}; refused after reading ${bytes ?? 0} bytes, so that no answer can take the exporter's memory`,
    { kind: 'parse', endpoint: ctx.endpoint, project: ctx.project },
  );
}

/** The scan of an answer of `endpoint` with its caps (ITEM_CAPS, MAX_ANSWER_VALUES). */
export function answerScan(endpoint: EndpointTemplate): AnswerScan {
  return new AnswerScan(ITEM_CAPS[endpoint], MAX_ANSWER_VALUES);
}

/** The counts of a whole body (a test's or a tool's): `AnswerScan` fed at once. */
export function measureAnswer(
  body: string | Uint8Array,
  cap: ItemCap | undefined,
  maxValues: number,
): AnswerSize {
  const scan = new AnswerScan(cap, maxValues);
  scan.feed(typeof body === 'string' ? Buffer.from(body) : body);
  return { items: scan.items, values: scan.values, over: scan.over };
}
