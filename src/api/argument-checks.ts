import {
  ASTNode, DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLError, GraphQLField, GraphQLSchema, Kind, OperationDefinitionNode,
  TypeInfo, getArgumentValues, visit, visitWithTypeInfo,
} from 'graphql';
import { ErrorCode } from '../domain/common/errors';
import { graphQLError } from './errors';

/** NUL, and halves of surrogate pairs standing alone (`\p{Cs}` under /u matches only those). */
const UNSTORABLE = /[\u0000\p{Cs}]/u;

/**
 * Every argument of every field the operation can reach, literal or from a variable, must
 * coerce to its type, and its text must be storable; otherwise BAD_USER_INPUT (400) before
 * anything runs, so nothing is half-written.
 *
 * Storable: PostgreSQL cannot store a NUL in text (the statement fails, and the request with it)
 * and would silently turn an unpaired surrogate into U+FFFD; no field of this API can use either.
 * `field` names the input at fault the way the services do (`title`, not `input.title`).
 * `variables` are the operation's coerced values.
 */
export function checkArguments(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode,
  variables: Record<string, unknown>): void {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  // The operation and the fragments it reaches: another operation's fields may use variables this one lacks.
  const pending: ASTNode[] = [operation];
  const reached = new Set<string>();
  while (pending.length > 0) {
    const typeInfo = new TypeInfo(schema);
    visit(pending.pop()!, visitWithTypeInfo(typeInfo, {
      FragmentSpread(spread) {
        const fragment = fragments.get(spread.name.value);
        if (fragment && !reached.has(fragment.name.value)) {
          reached.add(fragment.name.value);
          pending.push(fragment);
        }
      },
      Field(field) {
        const definition = typeInfo.getFieldDef();
        if (definition && field.arguments?.length) checkField(definition, field, variables);
      },
    }));
  }
}

function checkField(definition: GraphQLField<unknown, unknown>, field: FieldNode, variables: Record<string, unknown>): void {
  let values: Record<string, unknown>;
  try {
    values = getArgumentValues(definition, field, variables);
  } catch (error) {
    // A null for a non-null argument (through a variable's default): the client's mistake, not a server error.
    if (error instanceof GraphQLError) throw graphQLError(ErrorCode.BAD_USER_INPUT, error.message, 400);
    throw error;
  }
  for (const [name, value] of Object.entries(values)) checkText(value, name === 'input' ? [] : [name]);
}

function checkText(value: unknown, path: string[]): void {
  if (typeof value === 'string') {
    const bad = UNSTORABLE.exec(value);
    if (!bad) return;
    const field = path.join('.');
    const message = bad[0] === '\u0000' ? `${field} must not contain NUL characters` : `${field} is not valid Unicode text (an unpaired surrogate)`;
    throw graphQLError(ErrorCode.BAD_USER_INPUT, message, 400, { field });
  }
  if (Array.isArray(value)) {
    for (const item of value) checkText(item, path);
  } else if (isInputObject(value)) {
    for (const [key, item] of Object.entries(value)) checkText(item, [...path, key]);
  }
}

/** Coerced input objects have no prototype; a Date (a custom scalar's value) has its own. */
function isInputObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}
