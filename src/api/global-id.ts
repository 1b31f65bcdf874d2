import { badInput, notFound } from '../domain/common/errors';

export type NodeType = 'Project' | 'ApiKey' | 'Character' | 'Story' | 'Frame' | 'Render' | 'Image' | 'GenerationJob'
  | 'Webhook' | 'WebhookDelivery';
export const NODE_TYPES: readonly NodeType[] = ['Project', 'ApiKey', 'Character', 'Story', 'Frame', 'Render', 'Image', 'GenerationJob',
  'Webhook', 'WebhookDelivery'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Relay global ID: base64 of "Type:uuid". */
export function toGlobalId(type: NodeType, id: string): string {
  return Buffer.from(`${type}:${id}`).toString('base64');
}

export function parseGlobalId(globalId: string, field: string): { type: NodeType; id: string } {
  const text = Buffer.from(globalId, 'base64').toString();
  const colon = text.indexOf(':');
  const type = text.slice(0, colon) as NodeType;
  const id = text.slice(colon + 1);
  if (colon < 0 || !NODE_TYPES.includes(type) || !UUID.test(id)) throw badInput(field, `${field} is not a valid ID`);
  return { type, id };
}

/** An ID of another type is answered like a missing one: the caller learns nothing either way. */
export function fromGlobalId(globalId: string, type: NodeType, field: string): string {
  const parsed = parseGlobalId(globalId, field);
  if (parsed.type !== type) throw notFound(field, type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase());
  return parsed.id;
}

/** Objects with ids that are not Relay nodes (a project's styles): the same encoding. */
export type ObjectType = 'Style' | 'ReferenceImage';

export function toObjectId(type: ObjectType, id: string): string {
  return Buffer.from(`${type}:${id}`).toString('base64');
}

export function fromObjectId(globalId: string, type: ObjectType, field: string): string {
  const text = Buffer.from(globalId, 'base64').toString();
  const colon = text.indexOf(':');
  const id = text.slice(colon + 1);
  if (colon < 0 || !UUID.test(id)) throw badInput(field, `${field} is not a valid ID`);
  if (text.slice(0, colon) !== type) throw notFound(field, type.toLowerCase());
  return id;
}

export function fromGlobalIds(globalIds: readonly string[], type: NodeType, field: string): string[] {
  return globalIds.map((g) => fromGlobalId(g, type, field));
}
