/**
 * Checks JSON bodies against Qdrant's own OpenAPI document (OpenAPI 3.0.1), loaded at runtime from the shared copy
 * next to the repository. The document is never copied into the repository: when it is absent, callers skip the
 * schema check and say so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ROOT } from '../runner.ts';

export const QDRANT_OPENAPI_PATH = path.resolve(ROOT, '../shared/qdrant/openapi.json');

/** The id under which the document's components are registered with ajv. */
const DOCUMENT_ID = 'qdrant-openapi';
const COMPONENT_REF_PREFIX = '#/components/schemas/';

interface MediaTypeObject {
  schema?: unknown;
}
interface ResponseObject {
  description?: string;
  content?: Record<string, MediaTypeObject>;
}
interface OperationObject {
  operationId?: string;
  responses?: Record<string, ResponseObject>;
}
interface OpenApiDocument {
  openapi: string;
  info?: { version?: string };
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, unknown> };
}

export interface QdrantOpenApi {
  /** The document's info.version (e.g. "v1.19.x"). */
  readonly version: string;
  /**
   * Violations (empty = valid) of `body` against the JSON schema the document declares for this operation and status
   * (exact code, else the `4XX`-style class, else `default`). A missing operation or a response without a JSON schema
   * is itself a violation: the check must never pass silently.
   */
  validateResponse(method: string, pathTemplate: string, status: number, body: unknown): string[];
  /**
   * The document's path template for a concrete path, e.g. `/collections/trades` -> `/collections/{collection_name}`.
   */
  pathTemplateOf(path: string): string | undefined;
}

const loaded = new Map<string, QdrantOpenApi>();

/** Loads (once per file and process) the OpenAPI document; undefined when the file does not exist. */
export function loadQdrantOpenApi(file: string = QDRANT_OPENAPI_PATH): QdrantOpenApi | undefined {
  const cached = loaded.get(file);
  if (cached) return cached;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const api = new OpenApiChecker(JSON.parse(text) as OpenApiDocument);
  loaded.set(file, api);
  return api;
}

class OpenApiChecker implements QdrantOpenApi {
  readonly version: string;
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly templates: string[];
  private readonly document: OpenApiDocument;

  constructor(document: OpenApiDocument) {
    this.document = document;
    this.version = document.info?.version ?? 'unknown';
    this.templates = Object.keys(document.paths);
    this.ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    // Only the components are registered; each response schema is compiled on its own and refers to them by id.
    this.ajv.addSchema({ $id: DOCUMENT_ID, components: { schemas: toJsonSchema(document.components?.schemas ?? {}) } });
  }

  validateResponse(method: string, pathTemplate: string, status: number, body: unknown): string[] {
    const operationName = `${method.toUpperCase()} ${pathTemplate}`;
    const operation = this.document.paths[pathTemplate]?.[method.toLowerCase()];
    if (!operation?.responses) return [`${operationName} is not an operation of the Qdrant API`];
    const key = responseKeyFor(operation.responses, status);
    if (key === undefined) return [`${operationName} declares no response for status ${status}`];
    const schema = operation.responses[key]?.content?.['application/json']?.schema;
    if (schema === undefined)
      return [`${operationName} declares no JSON body for status ${status} (response "${key}")`];
    const validate = this.validatorFor(`${operationName} ${key}`, schema);
    if (validate(body)) return [];
    return describeErrors(validate.errors ?? []);
  }

  pathTemplateOf(concretePath: string): string | undefined {
    return matchPathTemplate(this.templates, concretePath)?.template;
  }

  private validatorFor(cacheKey: string, schema: unknown): ValidateFunction {
    let validate = this.validators.get(cacheKey);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema) as object);
      this.validators.set(cacheKey, validate);
    }
    return validate;
  }
}

/** The declared response for a status: the exact code, then its class (`4XX`), then `default`. */
function responseKeyFor(responses: Record<string, ResponseObject>, status: number): string | undefined {
  const candidates = [String(status), `${Math.floor(status / 100)}XX`, 'default'];
  return candidates.find((key) => key in responses);
}

/** Keys whose values are data, not schemas: converting them would corrupt examples and defaults. */
const DATA_KEYWORDS = new Set(['example', 'examples', 'default', 'enum', 'const']);

/**
 * Turns OpenAPI 3.0 schema dialect into JSON Schema (draft-07) that ajv understands:
 * - `type: T, nullable: true` becomes `type: [T, "null"]`;
 * - a bare `{ nullable: true }` (the document only uses it as an `anyOf` branch: "X or null") becomes
 *   `{ type: "null" }`, so `anyOf: [{ $ref: X }, { nullable: true }]` still checks X instead of accepting anything;
 * - `$ref: "#/components/schemas/X"` points into the components registered under DOCUMENT_ID.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const source = node as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === 'nullable') continue;
    result[key] = DATA_KEYWORDS.has(key) ? value : toJsonSchema(value);
  }
  if (typeof source.$ref === 'string' && source.$ref.startsWith(COMPONENT_REF_PREFIX)) {
    result.$ref = `${DOCUMENT_ID}${source.$ref}`;
  }
  if (source.nullable === true) makeNullable(result);
  return result;
}

function makeNullable(schema: Record<string, unknown>): void {
  if (schema.type === undefined) {
    schema.type = 'null';
    return;
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (!types.includes('null')) schema.type = [...types, 'null'];
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
}

function describeErrors(errors: ErrorObject[]): string[] {
  const lines = errors.map((error) => {
    const where = error.instancePath || '(body)';
    const detail =
      error.keyword === 'additionalProperties' || error.keyword === 'enum' ? ` ${JSON.stringify(error.params)}` : '';
    return `${where} ${error.message ?? error.keyword}${detail} (schema ${error.schemaPath})`;
  });
  return [...new Set(lines)];
}

export interface PathMatch {
  template: string;
  params: Record<string, string>;
}

/**
 * Matches a concrete path (query string ignored) against path templates such as `/collections/{collection_name}`.
 * When several match, literal segments win over parameters, segment by segment from the left: `/collections/aliases`
 * is its own path, not a collection named "aliases".
 */
export function matchPathTemplate(templates: Iterable<string>, concretePath: string): PathMatch | undefined {
  const segments = splitPath(concretePath.split('?')[0] ?? '');
  let best: { match: PathMatch; rank: string } | undefined;
  for (const template of templates) {
    const match = matchOne(template, segments);
    if (!match) continue;
    // One digit per segment, 1 for a literal and 0 for a parameter; all candidates have as many segments as the
    // path, so the greatest string is the template whose first literal comes earliest.
    const rank = splitPath(template)
      .map((segment) => (isParameter(segment) ? '0' : '1'))
      .join('');
    if (!best || rank > best.rank) best = { match, rank };
  }
  return best?.match;
}

function matchOne(template: string, segments: string[]): PathMatch | undefined {
  const parts = splitPath(template);
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    const segment = segments[index]!;
    if (isParameter(part)) {
      if (segment === '') return undefined;
      params[part.slice(1, -1)] = segment;
    } else if (part !== segment) {
      return undefined;
    }
  }
  return { template, params };
}

function isParameter(segment: string): boolean {
  return segment.startsWith('{') && segment.endsWith('}');
}

/** `/a/b%20c/` -> ["a", "b c"]; `/` -> [""] (the root is one empty segment, as in the template `/`). */
function splitPath(value: string): string[] {
  const trimmed = value.length > 1 && value.endsWith('/') ? value.slice(0, -1) : value;
  return trimmed
    .split('/')
    .slice(1)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
}
