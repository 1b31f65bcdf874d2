/** clients/schema.graphql is the schema the server runs, printed: a change to schema/ without reprinting fails here. */
import { readFileSync } from 'node:fs';
import { buildSchema as parse } from 'graphql';
import { PRINTED_SCHEMA, printedSchema } from '../../src/api/printed-schema';

describe('the printed schema', () => {
  it('is current (run `npm run schema:print` after changing schema/)', () => {
    expect(readFileSync(PRINTED_SCHEMA, 'utf8')).toBe(printedSchema());
  });

  it('is complete SDL another code generator can read on its own', () => {
    const schema = parse(readFileSync(PRINTED_SCHEMA, 'utf8'));
    expect(Object.keys(schema.getMutationType()!.getFields())).toEqual(expect.arrayContaining(['createStory', 'generateStory', 'addReferenceImages']));
    expect(schema.getType('ComicPage')).toBeDefined();
  });
});
