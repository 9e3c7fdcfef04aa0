import { Inject, Injectable, Logger } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';

const TABLE_NAME = /^[a-z_][a-z0-9_]*$/;

export type VacuumReport = { vacuumed: string[]; notAllowed: string[]; seconds: number } | { error: string };

/**
 * VACUUM (ANALYZE) of the tables a deletion removed rows from. Tenants share
 * heap pages: until the dead rows are vacuumed every tenant's reads step over
 * them, and index-only scans (counts) go back to the heap because the pages
 * lost their all-visible bit. Autovacuum would come, later and on its own
 * thresholds; the deletion job leaves the tables as fast as it found them.
 *
 * It runs as the owner role (VACUUM by anyone else skips the table with a
 * mere warning), on a connection of its own, outside any transaction (VACUUM
 * refuses to run inside one) and without the pools' statement timeout: a
 * large partition takes longer than any request may. It goes at
 * autovacuum's default pace (a manual VACUUM otherwise runs unthrottled).
 */
@Injectable()
export class TableVacuum {
  private readonly logger = new Logger('TableVacuum');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /**
   * The tables that exist, one after another. A failure is reported, not
   * thrown: the data is already gone, and autovacuum will still get there.
   */
  async vacuumAnalyze(tables: readonly string[], signal: AbortSignal): Promise<VacuumReport> {
    const started = Date.now();
    const names = [...new Set(tables)];
    const invalid = names.find((name) => !TABLE_NAME.test(name));
    if (invalid) throw new Error(`not a table name: ${invalid}`);
    const client = new Client({ connectionString: this.config.database.adminUrl, application_name: 'cspm-api:vacuum' });
    try {
      await client.connect();
      // No time limit, and autovacuum's pace rather than a manual VACUUM's flat-out one: other tenants are reading.
      await client.query(`SET statement_timeout = 0; SET vacuum_cost_delay = '2ms'; SET vacuum_cost_limit = 200`);
      // Who may VACUUM a table (PostgreSQL 15): its owner, the database's owner, a superuser.
      const existing = await client.query<{ name: string; allowed: boolean }>(
        `SELECT t.name, (pg_has_role(c.relowner, 'USAGE') OR pg_has_role(d.datdba, 'USAGE')
                         OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)) AS allowed
           FROM unnest($1::text[]) WITH ORDINALITY AS t(name, position)
           JOIN pg_class c ON c.oid = to_regclass(t.name)
           JOIN pg_database d ON d.datname = current_database()
          ORDER BY t.position`,
        [names],
      );
      const vacuumed: string[] = [];
      const notAllowed: string[] = [];
      for (const { name, allowed } of existing.rows) {
        if (!allowed) {
          notAllowed.push(name);
          continue;
        }
        // Between tables only: a VACUUM that has started runs to its end.
        signal.throwIfAborted();
        await client.query(`VACUUM (ANALYZE) "${name}"`);
        vacuumed.push(name);
      }
      if (notAllowed.length > 0) this.logger.warn(`DATABASE_ADMIN_URL's role may not VACUUM ${notAllowed.join(', ')}; autovacuum is left to do it`);
      return { vacuumed, notAllowed, seconds: Number(((Date.now() - started) / 1000).toFixed(2)) };
    } catch (error) {
      if (signal.aborted) throw error;
      this.logger.warn(`VACUUM after a deletion failed: ${(error as Error).message}`);
      return { error: 'The data was deleted, but the VACUUM after it failed; autovacuum will reclaim the space later.' };
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
