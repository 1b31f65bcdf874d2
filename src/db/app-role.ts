/**
 * The role every tenant transaction switches to (`SET LOCAL ROLE` via set_config). It is not a
 * superuser and does not own the tables, so row-level security applies to it. The login role
 * (which owns the tables and runs migrations) keeps bypassing RLS for platform work: key lookup
 * by hash, project listing in the CLI.
 */
export const APP_ROLE = 'storyforge_app';

/** The transaction-local setting the RLS policies read. */
export const TENANT_SETTING = 'app.project_id';
