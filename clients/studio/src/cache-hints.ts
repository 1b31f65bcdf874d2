/**
 * urql's document cache reads a query again when a mutation's result holds a type the query's
 * result holds. A list that was empty holds none, so the queries of lists name what they list.
 * Module constants: a new context object on each render would re-run the query.
 */
export const LISTS_CHARACTERS = { additionalTypenames: ['Character'] };
export const LISTS_STORIES = { additionalTypenames: ['Story'] };
export const LISTS_FRAMES = { additionalTypenames: ['Frame', 'Render'] };
export const LISTS_RENDERS = { additionalTypenames: ['Render'] };
export const LISTS_JOBS = { additionalTypenames: ['GenerationJob'] };
