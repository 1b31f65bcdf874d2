import { DocumentNode, Kind, print } from 'graphql';

export interface Printed {
  query: string;
  operationName: string | undefined;
}

// Documents are module constants, so each is printed once for the life of the process.
const cache = new WeakMap<DocumentNode, Printed>();

/** The text and operation name sent for a document. */
export function printed(document: DocumentNode): Printed {
  let found = cache.get(document);
  if (!found) {
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    found = { query: print(document), operationName: operation?.kind === Kind.OPERATION_DEFINITION ? operation.name?.value : undefined };
    cache.set(document, found);
  }
  return found;
}
