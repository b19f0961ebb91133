/**
 * Sentry's published OpenAPI spec as test helpers: response validators and declared query parameters for a
 * path template (e.g. `/api/0/organizations/{organization_id_or_slug}/issues/`). Shared by the simulator's and
 * the client's contract tests.
 */
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import type { ValidateFunction } from 'ajv';
import { OPENAPI_SPEC_FILE } from '../helpers/tools.js';

const Ajv = AjvModule.default;

export const SPEC_PATH = OPENAPI_SPEC_FILE;

interface OpenApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: unknown;
}

interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

export interface OpenApiSpec {
  openapi: string;
  paths: Record<
    string,
    Record<string, OpenApiOperation | OpenApiParameter[]> & { parameters?: OpenApiParameter[] }
  >;
}

let cached: OpenApiSpec | undefined;

/** The dereferenced spec (no `$ref`s), read once. */
export function loadSpec(): OpenApiSpec {
  cached ??= JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as OpenApiSpec;
  return cached;
}

function operation(pathTemplate: string, method: string): OpenApiOperation {
  const path = loadSpec().paths[pathTemplate];
  if (!path) throw new Error(`the spec has no path ${pathTemplate}`);
  const op = path[method.toLowerCase()] as OpenApiOperation | undefined;
  if (!op || Array.isArray(op)) throw new Error(`the spec has no ${method.toUpperCase()} ${pathTemplate}`);
  return op;
}

/**
 * OpenAPI 3.0 `nullable: true` as JSON Schema: a `null` type (and `null` enum member), or an `anyOf` with null
 * where the schema has no `type`. Done up front so Ajv sees plain JSON Schema.
 */
export function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable' || key === 'example' || key === 'examples' || key === 'discriminator') continue;
    // These hold maps of names to schemas (or literal values) and must keep their keys.
    if (key === 'properties' || key === 'patternProperties' || key === 'definitions') {
      out[key] = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, toJsonSchema(v)]));
    } else if (key === 'enum' || key === 'required' || key === 'default' || key === 'const') {
      out[key] = value;
    } else {
      out[key] = toJsonSchema(value);
    }
  }
  if ((schema as { nullable?: unknown }).nullable === true) {
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type)) out.type = [...(out.type as string[]), 'null'];
    else return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
// RFC 3339 date-time as Sentry prints it (with or without fraction, Z or offset).
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
for (const format of ['double', 'float', 'int32', 'int64', 'uri', 'email', 'uuid', 'date'])
  ajv.addFormat(format, true);

const validators = new Map<string, ValidateFunction>();

/** A validator for the JSON body of the given (default 200) response of an operation. */
export function responseValidator(pathTemplate: string, method = 'get', status = '200'): ValidateFunction {
  const key = `${method} ${pathTemplate} ${status}`;
  let validate = validators.get(key);
  if (!validate) {
    const schema = operation(pathTemplate, method).responses[status]?.content?.['application/json']?.schema;
    if (schema === undefined)
      throw new Error(`no JSON schema for ${status} of ${method.toUpperCase()} ${pathTemplate}`);
    validate = ajv.compile(toJsonSchema(schema) as object);
    validators.set(key, validate);
  }
  return validate;
}

/** Ajv's errors as one readable line per error, for assertion messages. */
export function describeErrors(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
}

/** Names of the query parameters the spec declares for an operation (path-level ones included). */
export function declaredQueryParams(pathTemplate: string, method = 'get'): Set<string> {
  const path = loadSpec().paths[pathTemplate];
  const shared = (path?.parameters ?? []) as OpenApiParameter[];
  const own = operation(pathTemplate, method).parameters ?? [];
  return new Set([...shared, ...own].filter((p) => p.in === 'query').map((p) => p.name));
}
