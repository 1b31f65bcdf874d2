import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * generation_jobs.idempotency_request: what the client asked for when it sent an Idempotency-Key
 * (operation, its arguments as given, the API key that sent it). A retry must ask for exactly the
 * same; the frozen `request` cannot tell, since it holds what the server derived (a drawn seed,
 * prompts built from the story as it was). Null for jobs made without a key, and for jobs made
 * before this column (those keep the older check: same kind and target).
 */
export class IdempotencyRequest1764700000000 implements MigrationInterface {
  name = 'IdempotencyRequest1764700000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE generation_jobs ADD COLUMN idempotency_request jsonb`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE generation_jobs DROP COLUMN idempotency_request`);
  }
}
