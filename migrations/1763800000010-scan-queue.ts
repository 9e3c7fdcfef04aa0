import { MigrationInterface, QueryRunner } from 'typeorm';

const UNFINISHED = `('available', 'scheduled', 'executing')`;

/**
 * One scan per provider at a time. A new scan's job is written to the outbox
 * held back (available_at = 'infinity', which the relay never reaches), and
 * `start_next_waiting_scan` hands the oldest held one over when the provider
 * has no scan running. It runs when a scan is created (ScanStarter) and, by
 * trigger, whenever an unfinished scan ends or goes, whatever ended it: its
 * own job, a failure, a cancel, or the stale-task sweep that settles a dead
 * worker's task. So no path that ends a scan can forget the next one.
 *
 * Both sides take the provider's transaction-level advisory lock first, so a
 * scan created while another ends sees that end or is seen by it. Functions
 * run as the caller (no SECURITY DEFINER): row-level security still applies.
 */
export class ScanQueue1763800000010 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE FUNCTION scan_slot_key(provider_id uuid) RETURNS bigint
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT hashtextextended('scan-slot:' || provider_id::text, 0) $$`,

      // A scan "runs" when its task is unfinished and its job is not held back; rows
      // without a live task (rows written by hand, a task already settled) block nothing.
      `CREATE FUNCTION start_next_waiting_scan(target uuid) RETURNS uuid
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
          next_task uuid;
        BEGIN
          PERFORM pg_advisory_xact_lock(scan_slot_key(target));
          IF EXISTS (
            SELECT 1 FROM scans s JOIN tasks t ON t.id = s.task_id
             WHERE s.provider_id = target AND s.state IN ${UNFINISHED} AND t.state IN ${UNFINISHED}
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.job_id = s.task_id::text AND o.available_at = 'infinity')
          ) THEN
            RETURN NULL;
          END IF;
          SELECT s.task_id INTO next_task
            FROM scans s
            JOIN tasks t ON t.id = s.task_id AND t.state IN ${UNFINISHED}
            JOIN outbox o ON o.job_id = s.task_id::text AND o.available_at = 'infinity'
           WHERE s.provider_id = target AND s.state IN ${UNFINISHED}
           ORDER BY s.inserted_at, s.id
           LIMIT 1;
          IF next_task IS NOT NULL THEN
            UPDATE outbox SET available_at = now() WHERE job_id = next_task::text AND available_at = 'infinity';
          END IF;
          RETURN next_task;
        END $$`,

      // A removed scan (its provider's data being erased) also lets its own held job go:
      // it then runs, finds the provider deleted, and settles its task instead of waiting forever.
      `CREATE FUNCTION scans_after_end() RETURNS trigger
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
          IF TG_OP = 'DELETE' AND OLD.task_id IS NOT NULL THEN
            UPDATE outbox SET available_at = now() WHERE job_id = OLD.task_id::text AND available_at = 'infinity';
          END IF;
          PERFORM start_next_waiting_scan(OLD.provider_id);
          RETURN NULL;
        END $$`,
      `CREATE TRIGGER scans_start_next_on_end AFTER UPDATE OF state ON scans FOR EACH ROW
        WHEN (OLD.state IN ${UNFINISHED} AND NEW.state NOT IN ${UNFINISHED})
        EXECUTE FUNCTION scans_after_end()`,
      `CREATE TRIGGER scans_start_next_on_delete AFTER DELETE ON scans FOR EACH ROW
        WHEN (OLD.state IN ${UNFINISHED})
        EXECUTE FUNCTION scans_after_end()`,
      `CREATE INDEX scans_provider_unfinished ON scans (provider_id, inserted_at, id) WHERE state IN ${UNFINISHED}`,
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS scans_start_next_on_delete ON scans`);
    await q.query(`DROP TRIGGER IF EXISTS scans_start_next_on_end ON scans`);
    await q.query(`DROP INDEX IF EXISTS scans_provider_unfinished`);
    await q.query(`DROP FUNCTION IF EXISTS scans_after_end()`);
    await q.query(`DROP FUNCTION IF EXISTS start_next_waiting_scan(uuid)`);
    await q.query(`DROP FUNCTION IF EXISTS scan_slot_key(uuid)`);
  }
}
