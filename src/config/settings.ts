/**
 * Settings are declared once, as typed values: where each is read from (its environment variable and its
 * key in a settings file, the path of the declaration), its default, its format and its documentation. The
 * type of the loaded configuration is derived from the declaration (`ValueOf`), so a setting keeps its
 * name from the declaration to the code that uses it. The core settings are in `schema.ts`; a collector
 * declares its own next to itself (src/collectors), the way node_exporter's collectors register their flags.
 */
import convict from 'convict';
import type { Format } from './formats.js';

export interface Setting<T> {
  readonly kind: 'setting';
  /** The environment variable (the Python exporter's name where it had one). */
  readonly env: string;
  readonly doc: string;
  readonly default: T;
  readonly format: Format<T>;
  /** Never printed: no default in --help, no value in any message. */
  readonly sensitive?: boolean;
  /** When it must be given: `always`, or a condition such as `this or SENTRY_AUTH_TOKEN_FILE`. */
  readonly required?: string;
  /** The settings-file key it had before, named when a file still uses it. */
  readonly formerly?: string;
}

export function setting<T>(s: Omit<Setting<T>, 'kind'>): Setting<T> {
  return { kind: 'setting', ...s };
}

/** Settings nested by settings-file key: `{ sentry: { rate: setting(...) } }` is the key `sentry.rate`. */
export interface SettingTree {
  readonly [key: string]: Setting<unknown> | SettingTree;
}

/** The loaded values of a tree of settings. */
export type ValueOf<S> =
  S extends Setting<infer T> ? T : S extends SettingTree ? { readonly [K in keyof S]: ValueOf<S[K]> } : never;

function isSetting(node: Setting<unknown> | SettingTree): node is Setting<unknown> {
  return (node as { kind?: unknown }).kind === 'setting';
}

/** One leaf of a tree with its settings-file key (e.g. `sentry.rate`). */
export interface SettingInfo extends Setting<unknown> {
  path: string;
}

/** Every setting of the tree, in declaration order. */
export function listSettings(tree: SettingTree, prefix = ''): SettingInfo[] {
  return Object.entries(tree).flatMap(([key, node]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    return isSetting(node) ? [{ ...node, path }] : listSettings(node, path);
  });
}

/** Where a value is read from: the environment wins over the settings file, which wins over the default. */
export interface SettingSources {
  env: NodeJS.ProcessEnv;
  /** The settings file's content, keys as nested paths; already checked for unknown keys. */
  file: Record<string, unknown>;
  /** How problems name the file when a value came from it. */
  fileName: string | undefined;
}

function valueAt(data: Record<string, unknown>, path: string): unknown {
  let node: unknown = data;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * convict's schema for the tree: every leaf's environment variable and default, with the format left to
 * `Format.read` (convict merges defaults, the file and the environment; the declaration types and checks).
 */
function convictSchema(tree: SettingTree): convict.Schema<Record<string, unknown>> {
  const schema: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(tree)) {
    schema[key] = isSetting(node)
      ? {
          doc: node.doc,
          default: node.default,
          env: node.env,
          format: '*',
          sensitive: node.sensitive === true,
        }
      : convictSchema(node);
  }
  return schema as convict.Schema<Record<string, unknown>>;
}

/**
 * Reads every setting of the tree: defaults, then the settings file, then the environment, merged by
 * convict, each value given in the file or the environment checked by its format. Each problem names the
 * environment variable, and the file key when the value came from the file; all are reported at once.
 */
export function readSettings<S extends SettingTree>(
  tree: S,
  sources: SettingSources,
  problems: string[],
): ValueOf<S> {
  const conf = convict(convictSchema(tree), { env: sources.env, args: [] });
  conf.load(sources.file);
  const merged = conf.getProperties();
  const read = (node: SettingTree, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (!isSetting(child)) {
        out[key] = read(child, path);
        continue;
      }
      const fromEnv = sources.env[child.env] !== undefined;
      if (!fromEnv && valueAt(sources.file, path) === undefined) {
        out[key] = child.default;
        continue;
      }
      const result = child.format.read(valueAt(merged, path));
      if ('value' in result) {
        out[key] = result.value;
      } else {
        const where = fromEnv ? '' : ` (${path} in ${sources.fileName ?? 'the settings file'})`;
        // A secret's problem says what was wrong, never the value: formats of secrets do not quote it, and a
        // problem that would is cut short.
        const raw = JSON.stringify(valueAt(merged, path)) ?? '';
        const quotes =
          child.sensitive === true && raw.length > 2 && result.problem.includes(raw.slice(1, -1));
        problems.push(`${child.env}${where}: ${quotes ? 'is not valid' : result.problem}`);
        out[key] = child.default;
      }
    }
    return out;
  };
  return read(tree, '') as ValueOf<S>;
}
