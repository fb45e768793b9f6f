import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleFromEnv, quoteIdent } from '../rls';

/**
 * Dead letters counted per provider across organizations, for the metrics scrape: one SECURITY DEFINER function that
 * returns counts only (no organization, no row), so the scrape needs neither a tenant nor the platform path. A partial
 * index keeps it cheap however large the inbox grows.
 */
export class DeadLetterCounts1732645000000 implements MigrationInterface {
  name = 'DeadLetterCounts1732645000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const app = quoteIdent(appRoleFromEnv().name);
    await queryRunner.query(`create index webhook_events_dead_idx on webhook_events (provider) where status = 'dead'`);
    await queryRunner.query(`
      create function webhook_dead_letter_counts()
      returns table (provider text, dead bigint)
      language sql stable security definer set search_path = public, pg_temp as $$
        select e.provider, count(*) from webhook_events e where e.status = 'dead' group by e.provider
      $$`);
    await queryRunner.query(`revoke all on function webhook_dead_letter_counts() from public`);
    await queryRunner.query(`grant execute on function webhook_dead_letter_counts() to ${app}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`drop function webhook_dead_letter_counts()`);
    await queryRunner.query(`drop index webhook_events_dead_idx`);
  }
}
