import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import {
  GraphQLField, GraphQLInputType, GraphQLSchema, coerceInputValue, getNamedType, getNullableType, isEnumType, isInputObjectType,
  isLeafType, isListType, isNonNullType, isObjectType, parse, specifiedRules, validate,
} from 'graphql';
import WebSocket from 'ws';
import { PROTOCOL_CODES } from '../../src/api/errors';
import { NODE_TYPES, NodeType, toGlobalId } from '../../src/api/global-id';
import { TestApi, startTestApi } from '../support/api-harness';
import { eventually } from '../support/eventually';
import { createCharacter, createStory, decodeId, insertCurrentRender } from '../support/fixtures';

/**
 * The hardening corpus: every query, mutation and subscription of the executable schema with
 * wrong types, missing and extra variables, NUL and lone surrogates, over-long and huge strings,
 * invalid Relay IDs of every node type and of the wrong type, invalid cursors; plus hand-written
 * transport abuse (invalid JSON and UTF-8, batches, content types and encodings, oversized
 * bodies, deep and aliased documents, fragment cycles) over HTTP and graphql-ws, against the real
 * server and PostgreSQL.
 *
 * Every case: no 5xx; every GraphQL error carries a string `extensions.code` from the server's
 * stable set (never INTERNAL_SERVER_ERROR); no WebSocket closes with an internal-error code. Then:
 * no row of any table written, no error logged, the server's live counts and heap back to their
 * baseline.
 */

const LIMIT_BYTES = 1_000_000;
/** Generous on purpose: Apollo's parsed-document cache alone may keep a few MB of what the corpus sent. */
const HEAP_SLACK_BYTES = 32 * 1024 * 1024;
/** The corpus is about 10,000 cases today; far fewer means its generator lost a kind of case. */
const MIN_CASES = 8000;

const WS_CLOSE_CODES_ALLOWED = new Set([1000, 1002, 1007, 1009, 4400, 4401, 4403, 4406, 4409, 4429]);
const LEGACY_JSON = 'application/json';

// Fixed, so a failing case names the same values on every run.
const UUIDS = ['3f2b8a6e-5c1d-4e7f-9a0b-1c2d3e4f5a6b', '7d4e2f10-9b8c-4a3d-8e1f-2a3b4c5d6e7f', 'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e'];
const MISSING_ID = toGlobalId('Story', UUIDS[0]);
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');
const b64url = (text: string | Buffer) => Buffer.from(text).toString('base64url');

type Operation = 'query' | 'mutation' | 'subscription';
type KeyKind = 'admin' | 'platform' | 'none' | 'invalid';

/** What a case must get besides the rules every case obeys. */
type Expectation =
  /** Refused before anything ran: no `data`, and only these codes. */
  | { kind: 'refused'; codes: readonly string[] }
  /** At least one error (the arguments cannot succeed). */
  | { kind: 'error' }
  /** Well-formed values at their edges: errors, if any, are coded. */
  | { kind: 'any' };

interface OperationCase {
  name: string;
  operation: Operation;
  query: string;
  /** JSON text, so keys such as `__proto__` reach the server as the client wrote them. */
  variablesJson?: string;
  key: 'admin' | 'platform';
  expect: Expectation;
}

interface Problem {
  name: string;
  problem: string;
}

/** Whatever came back, judged by the rules every case obeys; `problems` collects each broken rule. */
class Ledger {
  cases = 0;
  serverErrors = 0;
  readonly codes = new Set<string>();
  readonly problems: Problem[] = [];

  fail(name: string, problem: string): void {
    this.problems.push({ name, problem });
  }

  /** Status < 500, and every error of a GraphQL body with a stable code. Returns the codes seen. */
  http(name: string, status: number, body: unknown): string[] {
    this.cases++;
    if (status >= 500) {
      this.serverErrors++;
      this.fail(name, `HTTP ${status}`);
    }
    return this.errors(name, body);
  }

  errors(name: string, body: unknown): string[] {
    const errors = (body as { errors?: unknown } | undefined)?.errors;
    if (errors === undefined) return [];
    if (!Array.isArray(errors) || errors.length === 0) {
      this.fail(name, `errors is not a non-empty list: ${short(errors)}`);
      return [];
    }
    return errors.map((error) => {
      const code = (error as { extensions?: { code?: unknown } })?.extensions?.code;
      if (typeof code !== 'string' || !PROTOCOL_CODES.has(code)) this.fail(name, `error without a stable code: ${short(error)}`);
      if (typeof code === 'string') this.codes.add(code);
      return String(code);
    });
  }
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

function label(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 30)}... (${text.length} chars)` : text;
}

/** A literal written into the document as it stands, whatever the position's type. */
class Raw {
  constructor(readonly text: string) {}
}

// ---------------------------------------------------------------------------------------------
// The schema-derived corpus
// ---------------------------------------------------------------------------------------------

/** Where a field is reached from the root of an operation. */
interface Target {
  label: string;
  operation: Operation;
  field: GraphQLField<unknown, unknown>;
  wrap(selection: string): string;
  key: 'admin' | 'platform';
  /** Its required arguments name nothing that exists (or nothing valid), so every case on it must error. */
  mustFail: boolean;
}

/** An argument, or a field of an input object inside one: the types along the path, the last its own. */
interface Position {
  path: string[];
  types: GraphQLInputType[];
}

/** Well-typed arguments that still cannot succeed: empty required text, ids of nothing. */
function baseValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return baseValue(type.ofType);
  if (isListType(type)) return [baseValue(type.ofType)];
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) if (isNonNullType(field.type)) value[field.name] = baseValue(field.type);
    return value;
  }
  if (isEnumType(type)) return type.getValues()[0].name;
  switch (type.name) {
    case 'ID': return MISSING_ID;
    case 'String': return '';
    case 'Int': return 1;
    case 'Float': return 1;
    case 'Boolean': return false;
    default: throw new Error(`no base value for input scalar ${type.name}: teach the corpus about it`);
  }
}

function baseArgs(field: GraphQLField<unknown, unknown>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const arg of field.args) if (isNonNullType(arg.type)) args[arg.name] = baseValue(arg.type);
  return args;
}

function positionsOf(field: GraphQLField<unknown, unknown>): Position[] {
  const out: Position[] = [];
  const walk = (path: string[], types: GraphQLInputType[]) => {
    out.push({ path, types });
    const named = getNamedType(types[types.length - 1]);
    if (isInputObjectType(named) && path.length < 4) {
      for (const f of Object.values(named.getFields())) walk([...path, f.name], [...types, f.type]);
    }
  };
  for (const arg of field.args) walk([arg.name], [arg.type]);
  return out;
}

/** `args` with `value` at `position` (or the value removed), creating the input objects on the way. */
function withValue(args: Record<string, unknown>, position: Position, value: unknown, remove = false): Record<string, unknown> {
  const result = structuredClone(args);
  let container: Record<string, unknown> = result;
  position.path.forEach((key, i) => {
    if (i === position.path.length - 1) {
      if (remove) delete container[key];
      else container[key] = value;
      return;
    }
    if (container[key] === undefined || container[key] === null) container[key] = baseValue(getNullableType(position.types[i]) as GraphQLInputType);
    const next = container[key];
    // A list of input objects: the value goes into its (first) item.
    container = (Array.isArray(next) ? next[0] : next) as Record<string, unknown>;
  });
  return result;
}

/** Prints a value as a GraphQL literal of `type`: enum names bare, Raw as written. */
function literal(value: unknown, type: GraphQLInputType | undefined): string {
  if (value instanceof Raw) return value.text;
  if (value === null) return 'null';
  const nullable = type && isNonNullType(type) ? type.ofType : type;
  if (nullable && isListType(nullable)) {
    return Array.isArray(value) ? `[${value.map((item) => literal(item, nullable.ofType)).join(', ')}]` : literal(value, nullable.ofType);
  }
  if (Array.isArray(value)) return `[${value.map((item) => literal(item, undefined)).join(', ')}]`;
  if (typeof value === 'object') {
    const fields = nullable && isInputObjectType(nullable) ? nullable.getFields() : {};
    return `{ ${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}: ${literal(v, fields[k]?.type)}`).join(', ')} }`;
  }
  if (nullable && isEnumType(nullable) && typeof value === 'string' && /^[_A-Za-z][_0-9A-Za-z]*$/.test(value)) return value;
  // JSON's string escapes are GraphQL's; a lone surrogate comes out as a \u escape, which GraphQL refuses to parse.
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function selectionOf(field: GraphQLField<unknown, unknown>): string {
  return isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
}

/** The operation with every present argument passed as a variable of the argument's type. */
function withVariables(target: Target, args: Record<string, unknown>, declared: Record<string, string> = {}): string {
  const names = Object.keys(args);
  const types = Object.fromEntries(target.field.args.map((a) => [a.name, String(a.type)]));
  const definitions = names.map((n) => `$${n}: ${declared[n] ?? types[n] ?? 'String'}`).join(', ');
  const argText = names.map((n) => `${n}: $${n}`).join(', ');
  return `${target.operation} Probe${definitions ? `(${definitions})` : ''} { ${target.wrap(`${target.field.name}${argText ? `(${argText})` : ''}${selectionOf(target.field)}`)} }`;
}

function withLiterals(target: Target, args: Record<string, unknown>, extra = ''): string {
  const types = Object.fromEntries(target.field.args.map((a) => [a.name, a.type]));
  const parts = Object.entries(args).map(([n, v]) => `${n}: ${literal(v, types[n])}`);
  if (extra) parts.push(extra);
  const argText = parts.join(', ');
  return `${target.operation} Probe { ${target.wrap(`${target.field.name}${argText ? `(${argText})` : ''}${selectionOf(target.field)}`)} }`;
}

function coerces(value: unknown, type: GraphQLInputType): boolean {
  try {
    coerceInputValue(value, type);
    return true;
  } catch {
    return false;
  }
}

/** Values of every JSON kind; those that do not coerce to a position's type are its wrong-type cases. */
const WRONG_VALUES: unknown[] = [
  'x', '', '1', 0, 1, -1, 1.5, 2 ** 31, -(2 ** 31) - 1, 1e300, true, false, null, {}, { nope: 1 }, [], [null], [[]], [{}], [true],
  '__proto__', 'queued', ' QUEUED',
];

/** Literals of every GraphQL kind; a document that does not parse or validate with one is a refused case. */
const WRONG_LITERALS = ['"x"', '1', '1.5', 'true', 'null', '{ nope: 1 }', '[[1]]', 'NOPE', '1e400', '99999999999', '$undeclared', '[]'];

const UNSTORABLE_TEXT: [string, string][] = [
  ['a NUL', 'a\u0000b'], ['only NUL', '\u0000'], ['a lone high surrogate', 'a\ud800b'], ['a lone low surrogate', '\udc00'],
  ['a reversed surrogate pair', '\udc00\ud800'], ['a high surrogate at the end', 'ab\ud83d'],
];

const LONG_TEXT: [string, string][] = [
  ['5,000 characters', 'x'.repeat(5_000)],
  // 800 kB of UTF-8, just under the body limit with its envelope; 400,000 UTF-16 units, over every text limit.
  ['200,000 astral characters', '\u{1F600}'.repeat(200_000)],
];

const INT_EDGES = [-1, 0, 101, 1000, 2 ** 31 - 1, -(2 ** 31)];
const FLOAT_EDGES = [-1, 0, 1e308, -1e308, 5e-324];

function cursorValues(): [string, string][] {
  const time = (s: string) => b64url(`t:${s}|${UUIDS[1]}`);
  return [
    ['empty', ''], ['not base64', '!!!'], ['plain text', 'hello'], ['t: only', b64url('t:')], ['p: only', b64url('p:')],
    ['a negative position', b64url('p:-1')], ['an exponent position', b64url('p:1e3')], ['a seven-digit position', b64url('p:1234567')],
    ['a position with NUL', b64url('p:1\u0000')], ['a time without an id', b64url('t:2025-01-01T00:00:00.000Z|')],
    ['a time with a bad uuid', b64url('t:2025-01-01T00:00:00.000Z|zzz')], ['month 13', time('2025-13-01T00:00:00.000Z')],
    ['year 0', time('0000-01-01T00:00:00.000Z')], ['year 275760', time('+275760-09-13T00:00:00.000Z')],
    ['the far future', time('9999-12-31T23:59:59.999Z')], ['a six-digit position', b64url('p:999999')],
    ['a position cursor', b64url('p:1')], ['a time cursor', time('2025-01-01T00:00:00.000Z')],
    ['padded standard base64', b64('p:1')], ['100,000 digits', b64url(`p:${'1'.repeat(100_000)}`)],
    ['invalid UTF-8', b64url(Buffer.from([0x70, 0x3a, 0xff, 0xfe]))],
  ];
}

interface RealIds {
  /** Project A's own objects, by node type. */
  own: Partial<Record<NodeType, string>>;
  /** Project B's objects: another tenant's ids of the right type. */
  other: Partial<Record<NodeType, string>>;
}

function idValues(real: RealIds): [string, string][] {
  const [u] = UUIDS;
  const out: [string, string][] = [
    ['empty', ''], ['a space', ' '], ['not base64', '!!!!'], ['padding only', '===='], ['a bare uuid', u], ['digits', '12345'],
    ['a type without uuid', b64('Story:')], ['a colon', b64(':')], ['no type', b64(`:${u}`)], ['an upper-case uuid', b64(`Story:${u.toUpperCase()}`)],
    ['trailing text', b64(`Story:${u}:x`)], ['an unknown type', b64(`Nope:${u}`)], ['type __proto__', b64(`__proto__:${u}`)],
    ['type constructor', b64(`constructor:${u}`)], ['type toString', b64(`toString:${u}`)], ['a lower-case type', b64(`story:${u}`)],
    ['base64url', b64url(`Story:${u}`)], ['spaces inside', b64(`Story:${u}`).replace(/(.{4})/g, '$1 ')],
    ['10,000 characters', b64(`Story:${u}${'x'.repeat(10_000)}`)], ['a NUL in the decoded text', b64(`Story\u0000:${u}`)],
    ['invalid UTF-8 in the decoded text', b64(Buffer.concat([Buffer.from('Story:'), Buffer.from([0xff, 0xfe])]))],
  ];
  for (const type of NODE_TYPES) {
    out.push([`${type} with a malformed uuid`, b64(`${type}:not-a-uuid`)], [`a missing ${type}`, toGlobalId(type, UUIDS[2])]);
  }
  // Each real object under another type's name: found by no lookup, whichever type the argument wants.
  NODE_TYPES.forEach((type, i) => {
    const id = real.own[type];
    const wrong = NODE_TYPES[(i + 1) % NODE_TYPES.length];
    if (id) out.push([`a real ${type} named ${wrong}`, toGlobalId(wrong, decodeId(id))]);
  });
  for (const [type, id] of Object.entries(real.other)) out.push([`another project's ${type}`, id]);
  return out;
}

/** Objects that are not nodes, reached through a node that has them. */
const VIA: Record<string, { node: NodeType; path: (selection: string) => string }> = {
  ComicPage: { node: 'Story', path: (s) => `pages { ${s} }` },
};

/** Every field of the schema that takes arguments, reached from the root. Throws for one the corpus cannot reach. */
function targetsOf(schema: GraphQLSchema, real: RealIds): Target[] {
  const targets: Target[] = [];
  const roots: [Operation, ReturnType<GraphQLSchema['getQueryType']>][] = [
    ['query', schema.getQueryType()], ['mutation', schema.getMutationType()], ['subscription', schema.getSubscriptionType()],
  ];
  const rootNames = new Set<string>();
  for (const [operation, type] of roots) {
    if (!type) continue;
    rootNames.add(type.name);
    for (const field of Object.values(type.getFields())) {
      targets.push({
        label: `${type.name}.${field.name}`, operation, field, wrap: (s) => s,
        key: field.name === 'createProject' ? 'platform' : 'admin',
        mustFail: operation !== 'query' || field.args.some((a) => isNonNullType(a.type)),
      });
    }
  }
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || rootNames.has(type.name) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue;
      const via = VIA[type.name];
      const id = real.own[(via?.node ?? type.name) as NodeType];
      if (!id) throw new Error(`${type.name}.${field.name} takes arguments but the corpus has no ${type.name} to reach it through: add one`);
      targets.push({
        label: `${type.name}.${field.name}`, operation: 'query', field, key: 'admin', mustFail: false,
        wrap: via
          ? (s) => `node(id: ${JSON.stringify(id)}) { ... on ${via.node} { ${via.path(s)} } }`
          : (s) => `node(id: ${JSON.stringify(id)}) { ... on ${type.name} { ${s} } }`,
      });
    }
  }
  return targets;
}

function schemaCorpus(schema: GraphQLSchema, real: RealIds): OperationCase[] {
  const cases: OperationCase[] = [];
  const ids = idValues(real);
  const cursors = cursorValues();

  for (const target of targetsOf(schema, real)) {
    const base = baseArgs(target.field);
    const semantic: Expectation = target.mustFail ? { kind: 'error' } : { kind: 'any' };
    const add = (what: string, query: string, expect: Expectation, variables?: Record<string, unknown> | string) => {
      cases.push({
        name: `${target.label}: ${what}`, operation: target.operation, query, key: target.key, expect,
        variablesJson: typeof variables === 'string' ? variables : variables && JSON.stringify(variables),
      });
    };
    const byVariables = (what: string, args: Record<string, unknown>, expect: Expectation) => add(what, withVariables(target, args), expect, args);
    /** Judged by graphql-js itself: a literal that does not parse or validate is refused as such. */
    const byLiteral = (what: string, args: Record<string, unknown>, otherwise: Expectation) => {
      const query = withLiterals(target, args);
      let expect = otherwise;
      try {
        if (validate(schema, parse(query), specifiedRules).length > 0) expect = { kind: 'refused', codes: ['GRAPHQL_VALIDATION_FAILED'] };
      } catch {
        expect = { kind: 'refused', codes: ['GRAPHQL_PARSE_FAILED'] };
      }
      add(what, query, expect);
    };

    byVariables('base arguments', base, semantic);
    add('unknown extra variables', withVariables(target, base), semantic,
      `{${Object.entries(base).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}, `).join('')}"__proto__": {"admin": true}, "constructor": {"prototype": 1}, "nope": [1, 2]}`);
    add('an unknown argument', withLiterals(target, base, 'nope: 1'), { kind: 'refused', codes: ['GRAPHQL_VALIDATION_FAILED'] });
    if (target.field.args.length > 0) {
      const { [target.field.args[0].name]: _replaced, ...others } = base;
      add('an undeclared variable', withLiterals(target, others, `${target.field.args[0].name}: $nope`), { kind: 'refused', codes: ['GRAPHQL_VALIDATION_FAILED'] });
    }

    for (const arg of target.field.args) {
      if (isNonNullType(arg.type)) {
        const { [arg.name]: _omitted, ...rest } = base;
        add(`required ${arg.name} declared but not sent`, withVariables(target, base), { kind: 'refused', codes: ['BAD_USER_INPUT'] }, rest);
        add(`required ${arg.name} left out of the document`, withLiterals(target, rest), { kind: 'refused', codes: ['GRAPHQL_VALIDATION_FAILED'] });
        add(`${arg.name} declared nullable`, withVariables(target, base, { [arg.name]: String(arg.type.ofType) }),
          { kind: 'refused', codes: ['GRAPHQL_VALIDATION_FAILED'] }, base);
      }
      const wrongType = getNamedType(arg.type).name === 'Boolean' ? 'Int' : 'Boolean';
      add(`${arg.name} declared ${wrongType}`, withVariables(target, { ...base, [arg.name]: null }, { [arg.name]: wrongType }),
        { kind: 'refused', codes: ['GRAPHQL_VALIDATION_FAILED'] }, { ...base, [arg.name]: null });
    }

    for (const position of positionsOf(target.field)) {
      const type = position.types[position.types.length - 1];
      const named = getNamedType(type);
      const at = position.path.join('.');
      const args = (value: unknown) => withValue(base, position, value);
      const isList = isListType(getNullableType(type));
      const asType = (value: unknown) => (isList ? [value] : value);

      for (const value of WRONG_VALUES) {
        if (!coerces(value, type)) byVariables(`${at} = ${label(value)}`, args(value), { kind: 'refused', codes: ['BAD_USER_INPUT'] });
      }
      if (position.path.length === 1) {
        for (const text of WRONG_LITERALS) byLiteral(`${at}: ${text} in the document`, args(new Raw(text)), semantic);
      }
      if (isInputObjectType(named)) {
        byVariables(`${at} with an unknown field`, args({ ...(baseValue(named) as object), nope: 1 }), { kind: 'refused', codes: ['BAD_USER_INPUT'] });
        for (const field of Object.values(named.getFields())) {
          if (!isNonNullType(field.type)) continue;
          const inner = { path: [...position.path, field.name], types: [...position.types, field.type] };
          const missing = withValue(withValue(base, position, baseValue(named)), inner, undefined, true);
          byVariables(`${at} without its required ${field.name}`, missing, { kind: 'refused', codes: ['BAD_USER_INPUT'] });
        }
      }
      if (named.name === 'String' || named.name === 'ID') {
        for (const [what, text] of UNSTORABLE_TEXT) {
          byVariables(`${at} with ${what}`, args(asType(text)), { kind: 'refused', codes: ['BAD_USER_INPUT'] });
        }
        for (const [what, text] of [['an escaped NUL', JSON.stringify('a\u0000b')], ['an escaped lone surrogate', JSON.stringify('a\ud800b')],
          ['a raw NUL', '"a\u0000b"'], ['a raw lone surrogate', '"a\ud800b"']]) {
          add(`${at} with ${what} in the document`, withLiterals(target, args(asType(new Raw(text)))),
            { kind: 'refused', codes: ['BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED'] });
        }
        for (const [what, text] of LONG_TEXT) byVariables(`${at} of ${what}`, args(asType(text)), semantic);
      }
      if (named.name === 'ID') for (const [what, id] of ids) byVariables(`${at} = ${what}`, args(asType(id)), semantic);
      if (at.endsWith('after')) for (const [what, cursor] of cursors) byVariables(`${at} = ${what}`, args(cursor), semantic);
      if (named.name === 'Int') for (const n of INT_EDGES) byVariables(`${at} = ${n}`, args(asType(n)), semantic);
      if (named.name === 'Float') for (const n of FLOAT_EDGES) byVariables(`${at} = ${n}`, args(asType(n)), semantic);
    }
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Transports
// ---------------------------------------------------------------------------------------------

interface HttpResult {
  status: number;
  body: unknown;
  text: string;
}

async function httpSend(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; query?: string }): Promise<HttpResult> {
  const response = await fetch(init.query === undefined ? url : `${url}?${init.query}`, {
    method: init.method ?? 'POST',
    headers: init.headers,
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : new Uint8Array(init.body),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

/** A request written byte for byte, for what fetch will not send (bad header bytes, lying lengths). */
function rawHttp(port: number, request: Buffer | string): Promise<{ status: number; text: string; body: unknown }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const head = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      let body: unknown;
      try {
        body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
      } catch {
        body = undefined;
      }
      socket.destroy();
      resolve({ status: head ? Number(head[1]) : 0, text, body });
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (!length || text.length - end - 4 >= Number(length[1])) done();
    });
    socket.on('error', () => undefined);
    socket.on('close', done);
    socket.write(request);
  });
}

interface WsMessage {
  type?: string;
  id?: string;
  payload?: unknown;
  unparsable?: string;
}

/** A bare socket: every message the server sends, its close code, and sends of any bytes. */
class Probe {
  readonly messages: WsMessage[] = [];
  readonly opened: Promise<number>;
  closed: { code: number; reason: string } | undefined;
  private readonly socket: WebSocket;
  private wake: (() => void)[] = [];

  constructor(url: string, protocols: string | string[] = 'graphql-transport-ws') {
    this.socket = new WebSocket(url.replace(/^http/, 'ws'), protocols);
    this.opened = new Promise((resolve) => {
      this.socket.once('open', () => resolve(101));
      this.socket.once('error', () => resolve(0));
      this.socket.once('unexpected-response', (request, response) => {
        request.destroy();
        resolve(response.statusCode ?? 0);
      });
    });
    this.socket.on('error', () => undefined);
    this.socket.on('message', (data) => {
      let message: WsMessage;
      try {
        message = JSON.parse(String(data)) as WsMessage;
      } catch {
        message = { unparsable: String(data) };
      }
      this.messages.push(message);
      this.notify();
    });
    this.socket.once('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.notify();
    });
  }

  private notify(): void {
    for (const wake of this.wake.splice(0)) wake();
  }

  async send(data: string | Buffer, options: { binary?: boolean; fin?: boolean } = {}): Promise<void> {
    await this.opened;
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) return;
    await new Promise<void>((resolve) => this.socket.send(data, { binary: options.binary ?? false, fin: options.fin ?? true }, () => resolve()));
  }

  /** Resolves once `check` holds or the socket has closed. */
  async until(check: () => boolean): Promise<void> {
    while (!check() && !this.closed) await new Promise<void>((resolve) => this.wake.push(resolve));
  }

  async init(payload: unknown): Promise<void> {
    await this.send(JSON.stringify({ type: 'connection_init', payload }));
    await this.until(() => this.messages.some((m) => m.type === 'connection_ack'));
  }

  /** Closes from this side (if still open) and waits for the close. */
  async close(): Promise<{ code: number; reason: string }> {
    if (!this.closed) this.socket.close(1000);
    await this.until(() => false);
    return this.closed!;
  }
}

async function inPool<T>(items: readonly T[], width: number, work: (item: T, lane: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async (_, lane) => {
    while (next < items.length) await work(items[next++], lane);
  }));
}

/** The heap after collecting everything unreachable: jest cannot pass --expose-gc, so it is switched on here. */
function heapCollector(): () => Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return async () => {
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return process.memoryUsage().heapUsed;
  };
}

/**
 * Comic pages are drawn on their first read and kept (story_pages), older option sets dropped
 * with their files queued for removal: a cache a valid `pages` query fills, not a write.
 */
const CACHE_TABLES = ['public.story_pages', 'public.image_file_deletions'];

/** Row counts of every table the server can write, the job queue's included (caches left out). */
async function rowCounts(api: TestApi): Promise<Record<string, number>> {
  const { rows: all } = await api.db.owner.query<{ name: string }>(
    `SELECT format('%I.%I', schemaname, relname) AS name FROM pg_stat_user_tables WHERE schemaname IN ('public', 'pgboss') ORDER BY 1`);
  const rows = all.filter((r) => !CACHE_TABLES.includes(r.name));
  const counts: Record<string, number> = {};
  for (const { name } of rows) counts[name] = (await api.db.owner.query(`SELECT count(*)::int AS n FROM ${name}`)).rows[0].n;
  return counts;
}

describe('malformed and hostile input corpus', () => {
  let api: TestApi;
  let adminKey: string;
  let port: number;
  const real: RealIds = { own: {}, other: {} };
  const ledger = new Ledger();
  let corpus: OperationCase[] = [];
  let rowsBefore: Record<string, number>;
  let heapBefore: number;
  let liveBefore: ReturnType<TestApi['server']['liveCounts']>;
  let logsFrom: number;
  const heap = heapCollector();

  const keyFor = (kind: KeyKind): Record<string, string> => {
    if (kind === 'admin') return { authorization: `Bearer ${adminKey}` };
    if (kind === 'platform') return { authorization: `Bearer ${api.platformKey}` };
    if (kind === 'invalid') return { authorization: `Bearer sfk_${'0'.repeat(48)}` };
    return {};
  };

  const bodyOf = (c: OperationCase) =>
    `{"query": ${JSON.stringify(c.query)}${c.variablesJson !== undefined ? `, "variables": ${c.variablesJson}` : ''}}`;

  /** What the case must get over HTTP with this key and Accept header. */
  function httpExpectation(c: OperationCase, key: KeyKind): Expectation {
    if (key === 'invalid') return { kind: 'refused', codes: ['UNAUTHENTICATED'] };
    // A subscription is refused over HTTP once it parses and validates, whatever its variables.
    if (c.operation === 'subscription') {
      return { kind: 'refused', codes: [...(c.expect.kind === 'refused' ? c.expect.codes : []), 'BAD_REQUEST'] };
    }
    if (key === 'none' && c.expect.kind !== 'refused') return { kind: 'error' };
    return c.expect;
  }

  async function runHttp(ledger: Ledger, c: OperationCase, key: KeyKind, accept?: string): Promise<void> {
    const name = `HTTP ${key}${accept ? ` (Accept: ${accept})` : ''} ${c.name}`;
    let result: HttpResult;
    try {
      result = await httpSend(api.url, { headers: { 'content-type': 'application/json', ...keyFor(key), ...(accept ? { accept } : {}) }, body: bodyOf(c) });
    } catch (error) {
      ledger.cases++;
      return ledger.fail(name, `no response: ${error} ${(error as { cause?: unknown }).cause ?? ''}`);
    }
    const codes = ledger.http(name, result.status, result.body);
    if (result.body === undefined) return ledger.fail(name, `not JSON (${result.status}): ${short(result.text)}`);
    const expect = httpExpectation(c, key);
    const body = result.body as { data?: unknown; errors?: unknown[] };
    if (expect.kind === 'refused') {
      const statuses = key === 'invalid' ? [401] : accept === LEGACY_JSON ? [200] : [400];
      if (!statuses.includes(result.status) || 'data' in body || codes.length === 0 || codes.some((code) => !expect.codes.includes(code))) {
        ledger.fail(name, `expected a refusal (${statuses}) with ${expect.codes}, got ${result.status} ${short(body)}`);
      }
      return;
    }
    if (expect.kind === 'error' && codes.length === 0) ledger.fail(name, `expected an error, got ${result.status} ${short(body)}`);
    // Ran: 200 with its errors in the body; 400 only when refused before running (a limit, a value the checks refuse).
    if (result.status !== 200 && !(result.status === 400 && !('data' in body))) {
      ledger.fail(name, `unexpected status ${result.status}: ${short(body)}`);
    }
  }

  /** One operation over an acknowledged socket; a subscription that answers is completed from this side. */
  async function runWs(ledger: Ledger, probe: Probe, id: string, c: OperationCase): Promise<void> {
    const name = `WS ${c.name}`;
    ledger.cases++;
    const from = probe.messages.length;
    const mine = () => probe.messages.slice(from).filter((m) => m.id === id);
    await probe.send(JSON.stringify({ type: 'subscribe', id, payload: { query: c.query, variables: c.variablesJson === undefined ? undefined : JSON.parse(c.variablesJson) } }));
    const ended = () => mine().some((m) => m.type === 'complete' || m.type === 'error');
    await probe.until(() => ended() || (c.operation === 'subscription' && mine().some((m) => m.type === 'next')));
    if (probe.closed) {
      if (!WS_CLOSE_CODES_ALLOWED.has(probe.closed.code)) ledger.serverErrors++;
      return ledger.fail(name, `the socket closed: ${probe.closed.code} ${probe.closed.reason}`);
    }
    if (!ended()) await probe.send(JSON.stringify({ type: 'complete', id }));
    const messages = mine();
    const codes: string[] = [];
    for (const m of messages) {
      if (m.type === 'error') codes.push(...ledger.errors(name, { errors: m.payload }));
      if (m.type === 'next') codes.push(...ledger.errors(name, m.payload));
    }
    const refusal = messages.find((m) => m.type === 'error');
    if (c.expect.kind === 'refused') {
      const expected = c.expect.codes;
      if (!refusal || codes.some((code) => !expected.includes(code))) {
        ledger.fail(name, `expected an error message with ${expected}, got ${short(messages)}`);
      }
    } else if (c.expect.kind === 'error' && codes.length === 0) {
      ledger.fail(name, `expected an error, got ${short(messages)}`);
    }
  }

  beforeAll(async () => {
    api = await startTestApi();
    port = Number(new URL(api.url).port);
    const a = await api.createProject('Corpus');
    adminKey = a.secret;
    real.own.Project = a.projectId;
    const viewer = await api.gql('{ viewer { apiKey { id } } }', {}, adminKey);
    real.own.ApiKey = viewer.data.viewer.apiKey.id;
    real.own.Character = (await createCharacter(api, adminKey, 'Mira')).id;
    const story = await createStory(api, adminKey, { title: 'Kept', characterIds: [real.own.Character], script: 'one # a caption\ntwo' });
    real.own.Story = story.id;
    real.own.Frame = story.frames.edges[0].node.id;
    const render = await insertCurrentRender(api.db.owner, real.own.Frame);
    real.own.Render = toGlobalId('Render', render.renderId);
    real.own.Image = toGlobalId('Image', render.imageId);
    const job = await api.gql('mutation($id: ID!) { generateStory(storyId: $id) { job { id } } }', { id: real.own.Story }, adminKey);
    real.own.GenerationJob = job.data.generateStory.job.id;
    const hook = await api.gql('mutation { createWebhook(input: { url: "https://hooks.example.com/corpus", events: [JOB_FAILED] }) { webhook { id } } }', {}, adminKey);
    const webhookId: string = hook.data.createWebhook.webhook.id;
    real.own.Webhook = webhookId;
    const projectId = decodeId(a.projectId);
    const { rows: [message] } = await api.db.owner.query(`INSERT INTO webhook_messages (project_id, webhook_id, event, event_id, body, status)
      VALUES ($1, $2, 'job.failed', gen_random_uuid(), '{}', 'DELIVERED') RETURNING id, event_id`, [projectId, decodeId(webhookId)]);
    const { rows: [delivery] } = await api.db.owner.query(`INSERT INTO webhook_deliveries (project_id, webhook_id, message_id, event, event_id, attempt, http_status, duration_ms)
      VALUES ($1, $2, $3, 'job.failed', $4, 1, 200, 12) RETURNING id`, [projectId, decodeId(webhookId), message.id, message.event_id]);
    real.own.WebhookDelivery = toGlobalId('WebhookDelivery', delivery.id);

    const b = await api.createProject('Elsewhere');
    real.other.Project = b.projectId;
    real.other.Character = (await createCharacter(api, b.secret, 'Other')).id;
    const otherStory = await createStory(api, b.secret, { title: 'Theirs', script: 'theirs' });
    real.other.Story = otherStory.id;
    real.other.Frame = otherStory.frames.edges[0].node.id;
    real.other.ApiKey = (await api.gql('{ viewer { apiKey { id } } }', {}, b.secret)).data.viewer.apiKey.id;

    corpus = schemaCorpus(api.server.schema, real);

    // Warm-up: one case in 25 over both transports, so what the server builds once (caches, compiled
    // code, lazily loaded modules) is in the baseline rather than counted as growth.
    const warm = new Probe(api.url);
    await warm.init({ apiKey: adminKey });
    const unjudged = new Ledger();
    for (const [i, c] of corpus.entries()) {
      if (i % 25 !== 0) continue;
      await runHttp(unjudged, c, c.key);
      await runWs(unjudged, warm, `warm-${i}`, c);
    }
    await warm.close();
    await eventually(() => api.server.liveCounts().sockets === 0);
    rowsBefore = await rowCounts(api);
    liveBefore = api.server.liveCounts();
    heapBefore = await heap();
    logsFrom = api.logs.length;
  }, 120_000);

  afterAll(() => api?.close());

  it('answers every schema-derived case over HTTP without a 5xx, each error coded', async () => {
    expect(corpus.length).toBeGreaterThan(1000);
    const problemsFrom = ledger.problems.length;
    await inPool(corpus, 4, (c) => runHttp(ledger, c, c.key));
    // A subset as clients that name application/json (200 for refusals, by the spec), without a key, and with an unknown key.
    const subset = corpus.filter((_, i) => i % 9 === 0);
    await inPool(subset, 4, (c) => runHttp(ledger, c, c.key, LEGACY_JSON));
    await inPool(subset, 4, (c) => runHttp(ledger, c, 'none'));
    await inPool(corpus.filter((_, i) => i % 50 === 0), 4, (c) => runHttp(ledger, c, 'invalid'));
    expect(ledger.problems.slice(problemsFrom)).toEqual([]);
  }, 300_000);

  it('answers the same cases over graphql-ws without an internal error, each error coded', async () => {
    const problemsFrom = ledger.problems.length;
    const probes: Probe[] = [];
    let sequence = 0;
    const probeFor = async (lane: number) => {
      if (!probes[lane] || probes[lane].closed) {
        probes[lane] = new Probe(api.url);
        await probes[lane].init({ apiKey: adminKey });
      }
      return probes[lane];
    };
    // The platform key cannot open a socket (4403): its cases run with the admin key, refused by role if nothing else.
    await inPool(corpus, 3, async (c, lane) => runWs(ledger, await probeFor(lane), `op-${sequence++}`, c));
    for (const probe of probes) {
      const closed = await probe.close();
      if (closed.code !== 1000) ledger.fail('WS corpus socket', `closed with ${closed.code} ${closed.reason}`);
    }
    expect(ledger.problems.slice(problemsFrom)).toEqual([]);
  }, 300_000);

  it('answers hand-written HTTP transport abuse without a 5xx, each error coded', async () => {
    const problemsFrom = ledger.problems.length;
    const Q = '{ viewer { role } }';
    const json = (value: unknown) => JSON.stringify(value);
    const admin = () => ({ 'content-type': 'application/json', ...keyFor('admin') });
    const refused = (codes: string[], status: number | number[] = 400) => ({ status: ([] as number[]).concat(status), codes });
    type Want = { status: number[]; codes?: string[]; bodyless?: boolean };
    const cases: [string, () => Promise<HttpResult | { status: number; text: string; body?: unknown }>, Want][] = [];
    const post = (name: string, body: string | Buffer, want: Want, headers: Record<string, string> = admin()) =>
      cases.push([name, () => httpSend(api.url, { headers, body }), want]);

    // Invalid JSON.
    for (const [name, body] of [
      ['an unterminated object', '{'], ['a missing value', '{"query": '], ['a trailing comma', `{"query": ${json(Q)},}`],
      ['single quotes', "{'query': '{ viewer { role } }'}"], ['NaN', '{"query": NaN}'], ['trailing text', `{"query": ${json(Q)}} x`],
      ['a bare word', 'nul'], ['a number', '123'], ['a string', '"query"'],
      ['null', 'null'], ['true', 'true'], ['100,000 open brackets', '['.repeat(100_000)], ['50,000 open objects', '{"a":'.repeat(50_000)],
      ['a comment', `/* hi */ {"query": ${json(Q)}}`],
    ] as const) {
      post(`invalid JSON: ${name}`, body, refused(['BAD_USER_INPUT', 'BAD_REQUEST']));
    }
    // Decoders strip a byte order mark; an unknown key is ignored.
    post('a byte order mark before the JSON', `\ufeff{"query": ${json(Q)}}`, { status: [200] });
    post('a lone surrogate escape in an unknown key', `{"\\ud800": 1, "query": ${json(Q)}}`, { status: [200] });
    post('an empty body', '', refused(['BAD_REQUEST', 'BAD_USER_INPUT']));
    post('duplicate query keys, the last unparsable', `{"query": ${json(Q)}, "query": "{"}`, refused(['GRAPHQL_PARSE_FAILED']));
    post('a __proto__ key holding the query', `{"__proto__": {"query": ${json(Q)}}}`, refused(['BAD_REQUEST']));
    post('variables 100,000 arrays deep, unused', `{"query": ${json(Q)}, "variables": {"deep": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
      { status: [200] });
    post('a list variable 10,000 arrays deep', `{"query": "mutation($ids: [ID!]) { generateStory(storyId: \\"${MISSING_ID}\\", frameIds: $ids) { job { id } } }", "variables": {"ids": ${'['.repeat(10_000)}${']'.repeat(10_000)}}}`,
      refused(['BAD_USER_INPUT']));
    post('an input object 10,000 levels deep', `{"query": "mutation($i: UpdateCharacterInput!) { updateCharacter(id: \\"${MISSING_ID}\\", input: $i) { id } }", "variables": {"i": ${'{"consistency": '.repeat(10_000)}1${'}'.repeat(10_000)}}}`,
      refused(['BAD_USER_INPUT']));

    // Invalid UTF-8.
    const utf8 = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    const BAD_BYTES = [0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xe2, 0x82];
    post('invalid UTF-8 in a used variable', utf8('{"query": "query($q: String) { characters(search: $q) { edges { node { id } } } }", "variables": {"q": "', BAD_BYTES, '"}}'),
      { status: [200] });
    post('invalid UTF-8 in a mutation variable', utf8('{"query": "mutation($t: String!) { createStory(input: { title: $t, width: -1 }) { id } }", "variables": {"t": "', BAD_BYTES, '"}}'),
      refused(['BAD_USER_INPUT'], 200));
    post('invalid UTF-8 in the document', utf8('{"query": "{ viewer ', BAD_BYTES, ' { role } }"}'), refused(['GRAPHQL_PARSE_FAILED']));
    post('invalid UTF-8 between JSON tokens', utf8('{"query"', BAD_BYTES, `: ${json(Q)}}`), refused(['BAD_USER_INPUT']));
    post('a truncated multi-byte character at the end', utf8(`{"query": ${json(Q)}}`, [0xe2, 0x82]), refused(['BAD_USER_INPUT']));
    post('UTF-16 declared and sent', Buffer.from(`{"query": ${json(Q)}}`, 'utf16le'), { status: [200] },
      { ...admin(), 'content-type': 'application/json; charset=utf-16le' });
    post('UTF-16 sent as UTF-8', Buffer.from(`{"query": ${json(Q)}}`, 'utf16le'), refused(['BAD_USER_INPUT']));
    for (const charset of ['latin1', 'bogus', 'utf-7', 'utf-32']) {
      post(`charset=${charset}`, `{"query": ${json(Q)}}`, { status: [200, 400, 415], codes: ['BAD_USER_INPUT'] },
        { ...admin(), 'content-type': `application/json; charset=${charset}` });
    }

    // Batches (batching is off).
    for (const [name, body] of [
      ['an empty batch', '[]'], ['a batch of one empty object', '[{}]'], ['a batch of two', json([{ query: Q }, { query: Q }])],
      ['a batch of 1,000', json(Array.from({ length: 1000 }, () => ({ query: Q })))], ['a nested batch', json([[{ query: Q }]])],
      ['a batch of null', '[null]'], ['a batch of strings', json([Q])],
    ] as const) {
      post(`batched: ${name}`, body, refused(['BAD_REQUEST']));
    }

    // Content types.
    for (const [type, body] of [
      [undefined, `{"query": ${json(Q)}}`], ['text/plain', `{"query": ${json(Q)}}`], ['application/x-www-form-urlencoded', `query=${encodeURIComponent(Q)}`],
      ['multipart/form-data; boundary=x', `--x\r\ncontent-disposition: form-data; name="query"\r\n\r\n${Q}\r\n--x--`], ['application/graphql', Q],
      ['application/xml', '<query/>'], ['application/json-patch+json', `{"query": ${json(Q)}}`], ['application/graphql-response+json', `{"query": ${json(Q)}}`],
      ['', `{"query": ${json(Q)}}`], ['application/json; charset', `{"query": ${json(Q)}}`], ['APPLICATION/JSON', `{"query": ${json(Q)}}`],
    ] as const) {
      const headers: Record<string, string> = { ...keyFor('admin'), ...(type === undefined ? {} : { 'content-type': type }) };
      post(`content type ${type === undefined ? '(none)' : JSON.stringify(type)}`, Buffer.from(body), { status: [200, 400, 415], codes: ['BAD_REQUEST', 'BAD_USER_INPUT'] }, headers);
    }

    // Encodings and sizes.
    post('a gzip bomb (5 MB inflated)', gzipSync(Buffer.from(`{"query": ${json(Q)}, "variables": {"pad": "${' '.repeat(5_000_000)}"}}`)),
      refused(['BAD_USER_INPUT'], 413), { ...admin(), 'content-encoding': 'gzip' });
    post('gzip that is not gzip', Buffer.from('not gzip at all'), refused(['BAD_USER_INPUT'], [400, 415]), { ...admin(), 'content-encoding': 'gzip' });
    post('deflate that is not deflate', Buffer.from('not deflate'), refused(['BAD_USER_INPUT'], [400, 415]), { ...admin(), 'content-encoding': 'deflate' });
    post('an unknown content encoding', Buffer.from(`{"query": ${json(Q)}}`), refused(['BAD_USER_INPUT'], 415), { ...admin(), 'content-encoding': 'compress' });
    post('valid gzip', gzipSync(Buffer.from(`{"query": ${json(Q)}}`)), { status: [200] }, { ...admin(), 'content-encoding': 'gzip' });
    const padded = (bytes: number) => {
      const head = `{"query": ${json(Q)}, "variables": {"pad": "`;
      return `${head}${'x'.repeat(bytes - head.length - 3)}"}}`;
    };
    post('a body one byte over the limit', padded(LIMIT_BYTES + 1), refused(['BAD_USER_INPUT'], 413));
    post('a body of 5 MB', padded(5_000_000), refused(['BAD_USER_INPUT'], 413));
    post('a body of 5 MB without a key', padded(5_000_000), refused(['BAD_USER_INPUT'], 413), { 'content-type': 'application/json' });
    post('a body exactly at the limit', padded(LIMIT_BYTES), { status: [200] });
    const raw = (name: string, request: string | Buffer, want: Want) => cases.push([name, () => rawHttp(port, request), want]);
    const head = (extra: string, length: number | string) =>
      `POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\n${extra}content-length: ${length}\r\n\r\n`;
    raw('a content length of 999,999,999 with a small body', `${head('', 999_999_999)}{}`, refused(['BAD_USER_INPUT'], 413));
    // The rest of the body reads as a second request, which Node's parser refuses (a bare 400) and closes on.
    raw('a content length shorter than the body', `${head('', 5)}{"query": "{ viewer { role } }"}`, { status: [400], bodyless: true });
    raw('a content length that is not a number', `${head('', 'ten')}{}`, { status: [400], bodyless: true });
    raw('both chunked and a content length', `${head('transfer-encoding: chunked\r\n', 2)}{}`, { status: [400], bodyless: true });
    raw('a chunked body over the limit', Buffer.concat([
      Buffer.from('POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n'),
      ...Array.from({ length: 20 }, () => Buffer.from(`${(100_000).toString(16)}\r\n${'x'.repeat(100_000)}\r\n`)), Buffer.from('0\r\n\r\n'),
    ]), refused(['BAD_USER_INPUT'], 413));
    raw('an invalid chunk size', 'POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      { status: [400], bodyless: true });
    raw('a NUL in a header value', `${head('x-a: a\u0000b\r\n', 2)}{}`, { status: [400], bodyless: true });
    raw('a header name with a space', `${head('bad name: x\r\n', 2)}{}`, { status: [400], bodyless: true });
    raw('an authorization header of invalid UTF-8', Buffer.concat([Buffer.from('POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\nauthorization: Bearer '),
      Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from(`\r\ncontent-length: ${json({ query: Q }).length}\r\n\r\n${json({ query: Q })}`)]), refused(['UNAUTHENTICATED'], 401));

    // Methods and query strings.
    const send = (name: string, init: Parameters<typeof httpSend>[1], want: Want) => cases.push([name, () => httpSend(api.url, init), want]);
    const preflight = { ...keyFor('admin'), 'apollo-require-preflight': 'true' };
    send('GET without a preflight header', { method: 'GET', headers: keyFor('admin'), query: `query=${encodeURIComponent(Q)}` }, refused(['BAD_REQUEST']));
    send('GET with a mutation', { method: 'GET', headers: preflight, query: `query=${encodeURIComponent('mutation { deleteStory(id: "x") { deletedId } }')}` },
      refused(['BAD_REQUEST'], 405));
    send('GET with variables that are not JSON', { method: 'GET', headers: preflight, query: `query=${encodeURIComponent(Q)}&variables=%7Bbad` }, refused(['BAD_REQUEST']));
    send('GET with extensions that are not JSON', { method: 'GET', headers: preflight, query: `query=${encodeURIComponent(Q)}&extensions=%5B` }, refused(['BAD_REQUEST']));
    send('GET with the query twice', { method: 'GET', headers: preflight, query: `query=${encodeURIComponent(Q)}&query=${encodeURIComponent(Q)}` }, refused(['BAD_REQUEST']));
    send('GET with a 10 kB query string', { method: 'GET', headers: preflight, query: `query=${encodeURIComponent(`{ viewer { role } } #${'x'.repeat(10_000)}`)}` }, { status: [200] });
    send('GET with a 100 kB URL', { method: 'GET', headers: preflight, query: `query=${'x'.repeat(100_000)}` }, { status: [400, 414, 431], bodyless: true });
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      send(`${method}`, { method, headers: admin(), body: method === 'OPTIONS' || method === 'DELETE' ? undefined : `{"query": ${json(Q)}}` },
        { status: [400, 404, 405], bodyless: true });
    }

    // Body shapes.
    for (const [name, body, codes] of [
      ['no query', {}, ['BAD_REQUEST']], ['a numeric query', { query: 1 }, ['BAD_REQUEST']], ['a null query', { query: null }, ['BAD_REQUEST']],
      ['an empty query', { query: '' }, ['BAD_REQUEST', 'GRAPHQL_PARSE_FAILED']], ['a list query', { query: [Q] }, ['BAD_REQUEST']],
      ['an object query', { query: { kind: 'Document' } }, ['BAD_REQUEST']], ['list variables', { query: Q, variables: [] }, ['BAD_REQUEST']],
      ['string variables', { query: Q, variables: '{}' }, ['BAD_REQUEST']], ['numeric variables', { query: Q, variables: 1 }, ['BAD_REQUEST']],
      ['a numeric operation name', { query: Q, operationName: 1 }, ['BAD_REQUEST']], ['an object operation name', { query: Q, operationName: {} }, ['BAD_REQUEST']],
      ['an unknown operation name', { query: 'query A { viewer { role } }', operationName: 'B' }, ['OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']],
      ['an operation name with NUL', { query: 'query A { viewer { role } }', operationName: 'A\u0000' }, ['OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']],
      ['two operations and no name', { query: 'query A { viewer { role } } query B { viewer { role } }' }, ['OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST']],
      ['two operations of one name', { query: 'query A { viewer { role } } query A { viewer { role } }', operationName: 'A' }, ['GRAPHQL_VALIDATION_FAILED']],
      ['string extensions', { query: Q, extensions: 'x' }, ['BAD_REQUEST']], ['list extensions', { query: Q, extensions: [] }, ['BAD_REQUEST']],
      ['a persisted query of version 2', { extensions: { persistedQuery: { version: 2, sha256Hash: '0'.repeat(64) } } }, ['BAD_REQUEST']],
      ['a persisted query that is a string', { extensions: { persistedQuery: 'x' } }, ['BAD_REQUEST']],
      ['a persisted query hash that does not match', { query: Q, extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } }, ['BAD_REQUEST']],
    ] as const) {
      post(`body with ${name}`, json(body), refused([...codes]));
    }
    // Apollo answers an unknown persisted query 200, so that clients send the query itself next.
    for (const [name, hash] of [['an unknown persisted query', '0'.repeat(64)], ['a persisted query with a numeric hash', 123],
      ['a persisted query with a 100 kB hash', 'f'.repeat(100_000)]] as const) {
      post(`body with ${name}`, json({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }), refused(['PERSISTED_QUERY_NOT_FOUND'], 200));
    }

    // Keys.
    for (const [name, authorization] of [
      ['Basic', 'Basic YTpi'], ['a bare Bearer', 'Bearer'], ['two secrets', 'Bearer a b'], ['an unknown secret', `Bearer sfk_${'f'.repeat(48)}`],
      ['an unknown platform secret', `Bearer sfp_${'f'.repeat(64)}`], ['an 8 kB secret', `Bearer ${'x'.repeat(8_000)}`], ['tabs', `Bearer\t\t${'x'.repeat(10)}`],
      ['a NUL escape as text', 'Bearer \\u0000'], ['latin-1 bytes', 'Bearer \u00e9\u00e8'],
    ] as const) {
      post(`authorization ${name}`, `{"query": ${json(Q)}}`, refused(['UNAUTHENTICATED'], 401), { 'content-type': 'application/json', authorization });
    }
    post('authorization of 20 kB (over the header limit)', `{"query": ${json(Q)}}`, { status: [431], bodyless: true },
      { 'content-type': 'application/json', authorization: `Bearer ${'x'.repeat(20_000)}` });
    post('no key', `{"query": ${json(Q)}}`, { status: [200], codes: ['UNAUTHENTICATED'] }, { 'content-type': 'application/json' });
    for (const accept of ['application/xml', 'text/html', '*/*;q=0', 'application/json;q=0', ';;;', 'application/graphql-response+json;q=abc']) {
      post(`Accept: ${accept}`, `{"query": ${json(Q)}}`, { status: [200, 400, 406], codes: ['BAD_REQUEST'] }, { ...admin(), accept });
    }
    for (const [name, key] of [['of 8 kB', 'k'.repeat(8_000)], ['of latin-1', '\u00e9t\u00e9'], ['empty', ''], ['of spaces', '   ']] as const) {
      post(`Idempotency-Key ${name}`, json({ query: `mutation { generateStory(storyId: "${MISSING_ID}") { job { id } } }` }),
        { status: [200, 400], codes: ['NOT_FOUND', 'BAD_USER_INPUT'] }, { ...admin(), 'idempotency-key': key });
    }

    // Documents.
    const deep = (levels: number) => `{ stories { edges { node { ${'frames { edges { node { story { '.repeat(levels)}id${' } } } }'.repeat(levels)} } } } }`;
    const fragmentsDeep = 'fragment S on Story { frames { edges { node { story { ...T } } } } } fragment T on Story { frames { edges { node { story { ...U } } } } } fragment U on Story { frames { edges { node { id } } } } { stories { edges { node { ...S } } } }';
    for (const [name, query, codes] of [
      ['depth 11', deep(2), ['GRAPHQL_VALIDATION_FAILED']], ['depth 11 through fragments', fragmentsDeep, ['GRAPHQL_VALIDATION_FAILED']],
      ['600 nested selections', `{ ${'a { '.repeat(600)}b${' }'.repeat(600)} }`, ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED']],
      ['2,000 nested selections', `{ ${'a { '.repeat(2000)}b${' }'.repeat(2000)} }`, ['GRAPHQL_PARSE_FAILED']],
      ['a list literal 900 deep', `{ node(id: ${'['.repeat(900)}"x"${']'.repeat(900)}) { id } }`, ['GRAPHQL_VALIDATION_FAILED']],
      ['an object literal 600 deep', `mutation { updateCharacter(id: "x", input: ${'{ consistency: '.repeat(600)}1${' }'.repeat(600)}) { id } }`, ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']],
      ['11 aliases', `{ ${Array.from({ length: 11 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`, ['GRAPHQL_VALIDATION_FAILED']],
      ['1,000 aliases', `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`, ['GRAPHQL_PARSE_FAILED']],
      ['6 aliases in a fragment spread twice', `fragment F on Query { ${Array.from({ length: 6 }, (_, i) => `a${i}: viewer { role }`).join(' ')} } { ...F ...F }`, ['GRAPHQL_VALIDATION_FAILED']],
      ['aliases spread over three fragments', `fragment A on Query { ${Array.from({ length: 4 }, (_, i) => `a${i}: viewer { role }`).join(' ')} } fragment B on Query { ${Array.from({ length: 4 }, (_, i) => `b${i}: viewer { role }`).join(' ')} } fragment C on Query { ${Array.from({ length: 4 }, (_, i) => `c${i}: viewer { role }`).join(' ')} } { ...A ...B ...C }`, ['GRAPHQL_VALIDATION_FAILED']],
      ['11 aliases inside nested selections', `{ stories { edges { node { ${Array.from({ length: 11 }, (_, i) => `t${i}: title`).join(' ')} } } } }`, ['GRAPHQL_VALIDATION_FAILED']],
      ['200 conflicting fields', `{ ${Array.from({ length: 200 }, (_, i) => `node(id: "${i}") { id }`).join(' ')} }`, ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']],
      ['11 directives', `{ viewer ${'@skip(if: false) '.repeat(11)}{ role } }`, ['GRAPHQL_VALIDATION_FAILED']],
      ['an unknown directive', '{ viewer @nope { role } }', ['GRAPHQL_VALIDATION_FAILED']],
      ['@skip without if', '{ viewer @skip { role } }', ['GRAPHQL_VALIDATION_FAILED']],
      ['@include with a string', '{ viewer @include(if: "yes") { role } }', ['GRAPHQL_VALIDATION_FAILED']],
      ['a fragment cycle of two', 'fragment A on Query { ...B } fragment B on Query { ...A } { ...A }', ['GRAPHQL_VALIDATION_FAILED']],
      ['a fragment spreading itself', 'fragment A on Query { viewer { role } ...A } { ...A }', ['GRAPHQL_VALIDATION_FAILED']],
      ['a fragment cycle of three through inline fragments', 'fragment A on Query { ... on Query { ...B } } fragment B on Query { ...C } fragment C on Query { ... { ...A } } { ...A }', ['GRAPHQL_VALIDATION_FAILED']],
      ['a fragment cycle under depth', 'fragment A on Story { frames { edges { node { story { ...A } } } } } { stories { edges { node { ...A } } } }', ['GRAPHQL_VALIDATION_FAILED']],
      ['an unknown fragment', '{ ...Nope }', ['GRAPHQL_VALIDATION_FAILED']],
      ['an unused fragment', 'fragment A on Query { viewer { role } } { viewer { role } }', ['GRAPHQL_VALIDATION_FAILED']],
      ['a fragment on an unknown type', 'fragment A on Nope { id } { ...A }', ['GRAPHQL_VALIDATION_FAILED']],
      ['a fragment on a scalar', 'fragment A on String { id } { ...A }', ['GRAPHQL_VALIDATION_FAILED']],
      ['two fragments of one name', 'fragment A on Query { viewer { role } } fragment A on Query { viewer { role } } { ...A }', ['GRAPHQL_VALIDATION_FAILED']],
      ['a variable of an unknown type', 'query($x: Nope) { viewer { role } }', ['GRAPHQL_VALIDATION_FAILED']],
      ['a variable of an output type', 'query($x: Story) { viewer { role } }', ['GRAPHQL_VALIDATION_FAILED']],
      ['an unused variable', 'query($x: Int) { viewer { role } }', ['GRAPHQL_VALIDATION_FAILED']],
      ['a default of the wrong type', 'query($x: Int = "x") { stories(first: $x) { edges { cursor } } }', ['GRAPHQL_VALIDATION_FAILED']],
      ['two variables of one name', 'query($x: Int, $x: Int) { stories(first: $x) { edges { cursor } } }', ['GRAPHQL_VALIDATION_FAILED']],
      ['a raw NUL in the document', `${Q}\u0000`, ['GRAPHQL_PARSE_FAILED']],
      ['a raw lone surrogate in a name', '{ vie\ud800wer { role } }', ['GRAPHQL_PARSE_FAILED']],
      ['only a comment', '# nothing', ['GRAPHQL_PARSE_FAILED']],
      ['a subscription over HTTP', `subscription { storyUpdated(storyId: "${MISSING_ID}") { id } }`, ['BAD_REQUEST']],
      ['a string literal never closed', '{ node(id: "abc) { id } }', ['GRAPHQL_PARSE_FAILED']],
      ['a block string never closed', '{ node(id: """abc) { id } }', ['GRAPHQL_PARSE_FAILED']],
      ['a selection on a leaf', '{ viewer { role { name } } }', ['GRAPHQL_VALIDATION_FAILED']],
      ['a mutation field in a query', `{ deleteStory(id: "${MISSING_ID}") { deletedId } }`, ['GRAPHQL_VALIDATION_FAILED']],
      ['__typename on a subscription root', 'subscription { __typename }', ['GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST']],
    ] as const) {
      post(`document: ${name}`, json({ query }), refused([...codes]));
    }
    post('document: 900 kB of whitespace around a query', json({ query: `${' '.repeat(900_000)}${Q}` }), { status: [200] });
    post('document: an 800 kB string literal', json({ query: `{ characters(search: "${'x'.repeat(800_000)}") { edges { cursor } } }` }), { status: [200] });
    post('document: a byte order mark before the query', json({ query: `\ufeff${Q}` }), { status: [200] });
    // graphql-armor leaves __schema to the introspection switch (off in production); the ofType chain ends in the schema.
    post('document: introspection 12 deep', json({ query: `{ __schema { types { fields { type { ${'ofType { '.repeat(7)}name${' }'.repeat(7)} } } } } }` }),
      { status: [200] });
    // graphql-armor does not count aliases of __typename (no resolver runs); the token limit bounds them.
    post('document: 600 aliases of __typename', json({ query: `{ ${Array.from({ length: 600 }, (_, i) => `a${i}: __typename`).join(' ')} }` }), { status: [200] });
    post('document: introspection within the limits', json({ query: '{ __schema { types { name fields { name } } } }' }), { status: [200] });

    for (const [name, run, want] of cases) {
      let result;
      try {
        result = await run();
      } catch (error) {
        ledger.cases++;
        ledger.fail(`HTTP ${name}`, `no response: ${error} ${(error as { cause?: unknown }).cause ?? ''}`);
        continue;
      }
      const codes = ledger.http(`HTTP ${name}`, result.status, result.body);
      if (!want.status.includes(result.status)) ledger.fail(`HTTP ${name}`, `status ${result.status}, expected ${want.status}: ${short(result.text)}`);
      if (want.bodyless) continue;
      const body = result.body as { data?: unknown } | undefined;
      if (body === undefined) ledger.fail(`HTTP ${name}`, `not JSON: ${short(result.text)}`);
      else if (result.status !== 200 && codes.length === 0) ledger.fail(`HTTP ${name}`, `a ${result.status} without errors: ${short(body)}`);
      if (want.codes && codes.some((code) => !want.codes!.includes(code))) ledger.fail(`HTTP ${name}`, `codes ${codes}, expected among ${want.codes}`);
      if (want.codes && result.status !== 200 && codes.length === 0) ledger.fail(`HTTP ${name}`, `no error, expected ${want.codes}`);
    }
    expect(ledger.problems.slice(problemsFrom)).toEqual([]);
  }, 120_000);

  it('answers hand-written graphql-ws abuse with protocol close codes, never an internal error', async () => {
    const problemsFrom = ledger.problems.length;
    const Q = '{ viewer { role } }';
    type Script = (probe: Probe) => Promise<void>;
    /** `closeCode`: how the server must end it; 1000 where the socket must stay usable (closed by the test). */
    const cases: [string, Script, number, (string | number)[]?][] = [];
    const initThen = (then: Script): Script => async (p) => {
      await p.init({ apiKey: adminKey });
      await then(p);
    };
    const sendJson = (message: unknown): Script => (p) => p.send(typeof message === 'string' ? message : JSON.stringify(message));
    const stays = (then: Script): Script => async (p) => {
      await then(p);
      // Still answering: a ping gets its pong, then the test closes the socket.
      await p.send(JSON.stringify({ type: 'ping' }));
      await p.until(() => p.messages.some((m) => m.type === 'pong'));
      await p.close();
    };

    for (const [name, payload, code] of [
      ['no connection parameters', undefined, 4401], ['empty parameters', {}, 4401], ['a numeric authorization', { authorization: 123 }, 4401],
      ['an object apiKey', { apiKey: {} }, 4401], ['an unknown key', { apiKey: `sfk_${'0'.repeat(48)}` }, 4401],
      ['Basic authorization', { authorization: 'Basic YTpi' }, 4401], ['two different keys', { apiKey: adminKey, authorization: `Bearer sfk_${'1'.repeat(48)}` }, 4401],
      ['the platform key', { apiKey: api.platformKey }, 4403], ['a 500 kB key', { authorization: `Bearer ${'x'.repeat(500_000)}` }, 4401],
      ['a key with NUL', { apiKey: `sfk_\u0000${'0'.repeat(47)}` }, 4401], ['a key with a lone surrogate', { apiKey: `sfk_\ud800${'0'.repeat(47)}` }, 4401],
      ['a __proto__ parameter', JSON.parse(`{"__proto__": {"apiKey": ${JSON.stringify(adminKey)}}}`), 4401],
      ['list parameters', [], 4400], ['string parameters', 'x', 4400], ['numeric parameters', 1, 4400],
    ] as const) {
      cases.push([`connection_init with ${name}`, sendJson({ type: 'connection_init', payload }), code]);
    }
    for (const [name, message] of [
      ['invalid JSON', '{'], ['an empty message', ''], ['null', 'null'], ['a list', '[]'], ['a number', '1'], ['a numeric type', { type: 1 }],
      ['an unknown type', { type: 'nope' }], ['no type', { payload: {} }],
    ] as const) {
      cases.push([`before init: ${name}`, sendJson(message), 4400]);
    }
    cases.push(['connection_init with parameters 50,000 objects deep', sendJson(`{"type": "connection_init", "payload": ${'{"a": '.repeat(50_000)}1${'}'.repeat(50_000)}}`), 4401]);
    cases.push(['subscribe before init', sendJson({ type: 'subscribe', id: '1', payload: { query: Q } }), 4401]);
    cases.push(['connection_init twice', initThen(sendJson({ type: 'connection_init', payload: { apiKey: adminKey } })), 4429]);
    cases.push(['invalid UTF-8 in a binary message', (p) => p.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: true }), 4400]);
    cases.push(['invalid UTF-8 in a text message', (p) => p.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false }), 1007]);
    cases.push(['an oversized message before init', sendJson({ type: 'connection_init', payload: { pad: 'x'.repeat(LIMIT_BYTES) } }), 1009]);
    cases.push(['an oversized subscribe', initThen(sendJson({ type: 'subscribe', id: 'big', payload: { query: Q, variables: { pad: 'x'.repeat(LIMIT_BYTES) } } })), 1009]);
    cases.push(['an oversized message in 20 fragments', initThen(async (p) => {
      for (let i = 0; i < 20; i++) await p.send(Buffer.from('x'.repeat(100_000)), { fin: i === 19 });
    }), 1009]);
    for (const [name, payload] of [
      ['no payload', undefined], ['a null payload', null], ['a numeric query', { query: 1 }], ['no query', {}], ['list variables', { query: Q, variables: [] }],
      ['string variables', { query: Q, variables: 'x' }], ['string extensions', { query: Q, extensions: 'x' }], ['a numeric operation name', { query: Q, operationName: 1 }],
    ] as const) {
      cases.push([`subscribe with ${name}`, initThen(sendJson({ type: 'subscribe', id: 's', payload })), 4400]);
    }
    for (const [name, message] of [
      ['no id', { type: 'subscribe', payload: { query: Q } }], ['a numeric id', { type: 'subscribe', id: 1, payload: { query: Q } }],
      ['a ping with a string payload', { type: 'ping', payload: 'x' }], ['a pong with a list payload', { type: 'pong', payload: [] }],
      ['a complete without id', { type: 'complete' }], ['a second connection_ack from the client', { type: 'connection_ack' }],
      ['a next from the client', { type: 'next', id: 'x', payload: {} }],
    ] as const) {
      cases.push([`after init: ${name}`, initThen(sendJson(message)), 4400]);
    }
    cases.push(['a duplicate id of a running subscription', initThen(async (p) => {
      const subscribe = JSON.stringify({ type: 'subscribe', id: 'dup', payload: { query: 'subscription($id: ID!) { storyUpdated(storyId: $id) { id } }', variables: { id: real.own.Story } } });
      await p.send(subscribe);
      await p.until(() => p.messages.some((m) => m.id === 'dup' && m.type === 'next'));
      await p.send(subscribe);
    }), 4409]);
    cases.push(['a complete for an unknown id', initThen(stays(sendJson({ type: 'complete', id: 'never' }))), 1000]);
    cases.push(['a 500 kB operation id', initThen(stays(async (p) => {
      const id = 'i'.repeat(500_000);
      await p.send(JSON.stringify({ type: 'subscribe', id, payload: { query: Q } }));
      await p.until(() => p.messages.some((m) => m.id === id && m.type === 'complete'));
    })), 1000]);
    cases.push(['an operation id with NUL and a lone surrogate', initThen(stays(async (p) => {
      await p.send(JSON.stringify({ type: 'subscribe', id: 'a\u0000\ud800', payload: { query: Q } }));
      await p.until(() => p.messages.some((m) => m.type === 'complete'));
    })), 1000]);
    cases.push(['a subscription with a fragment cycle', initThen(stays(async (p) => {
      await p.send(JSON.stringify({ type: 'subscribe', id: 'cyc', payload: { query: 'fragment A on Subscription { ...B } fragment B on Subscription { ...A } subscription { ...A }' } }));
      await p.until(() => p.messages.some((m) => m.id === 'cyc' && m.type === 'error'));
    })), 1000]);
    cases.push(['a subscription 11 deep', initThen(stays(async (p) => {
      const query = `subscription { storyUpdated(storyId: "${MISSING_ID}") { ${'frames { edges { node { story { '.repeat(3)}id${' } } } }'.repeat(3)} } }`;
      await p.send(JSON.stringify({ type: 'subscribe', id: 'deep', payload: { query } }));
      await p.until(() => p.messages.some((m) => m.id === 'deep' && m.type === 'error'));
    })), 1000]);
    cases.push(['100 subscribes of one id, completed as they come', initThen(stays(async (p) => {
      for (let i = 0; i < 100; i++) {
        await p.send(JSON.stringify({ type: 'subscribe', id: 'again', payload: { query: `subscription { storyUpdated(storyId: "${MISSING_ID}") { id } }` } }));
        await p.send(JSON.stringify({ type: 'complete', id: 'again' }));
      }
    })), 1000]);

    for (const [name, script, closeCode] of cases) {
      ledger.cases++;
      const probe = new Probe(api.url);
      await script(probe);
      if (closeCode !== 1000) await probe.until(() => false);
      const closed = probe.closed ?? (await probe.close());
      if (closed.code === 1011 || closed.code === 4500 || closed.code === 1006) ledger.serverErrors++;
      if (closed.code !== closeCode) ledger.fail(`WS ${name}`, `closed with ${closed.code} ${closed.reason}, expected ${closeCode}`);
      for (const m of probe.messages) {
        if (m.unparsable !== undefined) ledger.fail(`WS ${name}`, `a message that is not JSON: ${short(m.unparsable)}`);
        if (m.type === 'error') ledger.errors(`WS ${name}`, { errors: m.payload });
        if (m.type === 'next') ledger.errors(`WS ${name}`, m.payload);
      }
    }

    for (const [name, protocols, path] of [
      ['the old subscriptions-transport-ws protocol', 'graphql-ws', '/graphql'], ['no subprotocol', [], '/graphql'], ['another path', 'graphql-transport-ws', '/elsewhere'],
    ] as const) {
      ledger.cases++;
      const probe = new Probe(api.url.replace('/graphql', path), [...([] as string[]).concat(protocols)]);
      const status = await probe.opened;
      if (status >= 500) ledger.serverErrors++;
      const closed = status === 101 ? await (async () => {
        await probe.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: adminKey } }));
        await probe.until(() => false);
        return probe.closed!;
      })() : undefined;
      // A refused subprotocol ends on the client's side (1006: it aborts the handshake), so only internal errors count here.
      if (status >= 500 || (closed && [1011, 4500].includes(closed.code))) {
        ledger.fail(`WS ${name}`, `handshake ${status}, close ${closed?.code} ${closed?.reason}`);
      }
    }
    expect(ledger.problems.slice(problemsFrom)).toEqual([]);
  }, 120_000);

  it('wrote no rows, logged no errors, and is back to its baseline', async () => {
    expect(Object.keys(rowsBefore)).toEqual(expect.arrayContaining(['public.projects', 'public.api_keys', 'public.characters', 'public.stories',
      'public.story_characters', 'public.frames', 'public.renders', 'public.images', 'public.generation_jobs', 'public.webhooks', 'pgboss.job']));
    expect(await rowCounts(api)).toEqual(rowsBefore);
    const errors = api.logs.slice(logsFrom).filter((line) => JSON.parse(line).level === 'error');
    expect(errors).toEqual([]);
    // Sockets close asynchronously on the server after the client sees the close; no deadline but the test's.
    await eventually(() => JSON.stringify(api.server.liveCounts()) === JSON.stringify(liveBefore));
    const heapAfter = await heap();
    process.stdout.write(`\n[malformed-input corpus] heap ${(heapBefore / 2 ** 20).toFixed(1)} MB -> ${(heapAfter / 2 ** 20).toFixed(1)} MB; codes seen: ${[...ledger.codes].sort().join(', ')}\n`);
    process.stdout.write(`${ledger.cases} cases, ${ledger.serverErrors} 5xx\n`);
    expect(heapAfter - heapBefore).toBeLessThan(HEAP_SLACK_BYTES);
    expect(ledger.serverErrors).toBe(0);
    expect(ledger.cases).toBeGreaterThanOrEqual(MIN_CASES);
    expect([...ledger.codes].filter((code) => !PROTOCOL_CODES.has(code))).toEqual([]);
    expect(ledger.problems).toEqual([]);
  }, 120_000);
});
