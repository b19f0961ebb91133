/** Small HTTP helpers for the simulator tests: authenticated GETs and following `Link` pagination. */
import type { SentrySimulator } from '../../sim/index.js';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
}

export type Query = Record<string, string | number | Array<string | number>>;

export function buildUrl(sim: SentrySimulator, path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  const qs = params.toString();
  return `${sim.url}${path.replace(/^\//, '')}${qs ? `?${qs}` : ''}`;
}

export async function fetchUrl(url: string, token: string | null, init: RequestInit = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function get(sim: SentrySimulator, path: string, query: Query = {}, token: string | null = sim.token) {
  return fetchUrl(buildUrl(sim, path, query), token);
}

export interface LinkEntry {
  url: string;
  rel: string;
  results: boolean;
  cursor: string;
}

export function parseLink(header: string | null): LinkEntry[] {
  if (!header) return [];
  const entries: LinkEntry[] = [];
  const re = /<([^>]*)>;\s*rel="([^"]*)";\s*results="(true|false)";\s*cursor="([^"]*)"/g;
  let match: RegExpExecArray | null;
  while ((match = re.exec(header)) !== null) {
    entries.push({
      url: match[1] ?? '',
      rel: match[2] ?? '',
      results: match[3] === 'true',
      cursor: match[4] ?? '',
    });
  }
  return entries;
}

/** Follows `rel="next"; results="true"` to the end; returns every item and the number of pages. */
export async function getAll<T = Record<string, unknown>>(
  sim: SentrySimulator,
  path: string,
  query: Query = {},
): Promise<{ items: T[]; pages: number; hits: number | undefined }> {
  let url: string | undefined = buildUrl(sim, path, query);
  const items: T[] = [];
  let pages = 0;
  let hits: number | undefined;
  while (url) {
    const reply = await fetchUrl(url, sim.token);
    if (reply.status !== 200) throw new Error(`GET ${url} answered ${reply.status}: ${reply.text}`);
    if (!Array.isArray(reply.json)) throw new Error(`GET ${url} did not answer a JSON array`);
    items.push(...(reply.json as T[]));
    pages++;
    const h = reply.headers.get('x-hits');
    if (h !== null) hits = Number(h);
    const next = parseLink(reply.headers.get('link')).find((e) => e.rel === 'next');
    url = next?.results ? next.url : undefined;
  }
  return { items, pages, hits };
}
