import { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolation } from '../src/database/rls-policy-sql';

const UNFINISHED = `('available', 'scheduled', 'executing')`;

/**
 * Tasks that wait for other tasks (the steps of a workflow, see
 * src/tasks/jobs/workflows.ts). A waiting step's job sits in the outbox held
 * back (available_at = 'infinity'), and a trigger on tasks settles it when a
 * task it waits for ends, whatever ended it (its job, the stale-task sweep, a
 * cancel):
 * - completed: each dependant whose every dependency has completed has its
 *   job released to the relay;
 * - failed or cancelled: each unfinished dependant ends `cancelled` with the
 *   outcome `dependency_<state>` and its held job is dropped. That update
 *   fires the same trigger, so the whole branch below stops; steps that do not
 *   depend on the failed one carry on.
 *
 * Two dependencies that complete at the same time in two transactions could
 * each miss the other's completion; so both first lock the dependant's task
 * row, and the second one's next statement (a new snapshot under READ
 * COMMITTED) sees the first one's commit. Runs as the caller: row-level
 * security applies.
 */
export class TaskDependencies1763800000230 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE task_dependencies (
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        depends_on uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        PRIMARY KEY (task_id, depends_on),
        CHECK (task_id <> depends_on)
      )`,
      `CREATE INDEX task_dependencies_depends_on ON task_dependencies (depends_on)`,
      ...tenantIsolation('task_dependencies'),

      `CREATE FUNCTION settle_task_dependants(ended uuid, ended_state varchar) RETURNS void
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
          dependants uuid[];
          ended_name varchar;
        BEGIN
          SELECT array_agg(d.task_id ORDER BY d.task_id) INTO dependants FROM task_dependencies d WHERE d.depends_on = ended;
          IF dependants IS NULL THEN
            RETURN;
          END IF;
          PERFORM 1 FROM tasks t WHERE t.id = ANY(dependants) ORDER BY t.id FOR UPDATE;
          IF ended_state = 'completed' THEN
            UPDATE outbox o SET available_at = now()
             WHERE o.operation = 'add-job' AND o.available_at = 'infinity'
               AND o.job_id IN (
                 SELECT t.id::text FROM tasks t
                  WHERE t.id = ANY(dependants) AND t.state IN ${UNFINISHED}
                    AND NOT EXISTS (
                      SELECT 1 FROM task_dependencies other JOIN tasks dep ON dep.id = other.depends_on
                       WHERE other.task_id = t.id AND dep.state <> 'completed'));
          ELSE
            SELECT name INTO ended_name FROM tasks WHERE id = ended;
            DELETE FROM outbox o
             WHERE o.operation = 'add-job' AND o.available_at = 'infinity'
               AND o.job_id IN (SELECT t.id::text FROM tasks t WHERE t.id = ANY(dependants) AND t.state IN ${UNFINISHED});
            UPDATE tasks t
               SET state = 'cancelled', completed_at = now(), updated_at = now(),
                   result = jsonb_build_object(
                     'outcome', 'dependency_' || ended_state,
                     'dependency', ended,
                     'error', format('Not run: the %s task it waits for (%s) ended %s.', ended_name, ended, ended_state))
             WHERE t.id = ANY(dependants) AND t.state IN ${UNFINISHED};
          END IF;
        END $$`,
      `CREATE FUNCTION tasks_after_end() RETURNS trigger
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
          PERFORM settle_task_dependants(NEW.id, NEW.state);
          RETURN NULL;
        END $$`,
      `CREATE TRIGGER tasks_settle_dependants_on_end AFTER UPDATE OF state ON tasks FOR EACH ROW
        WHEN (OLD.state IN ${UNFINISHED} AND NEW.state NOT IN ${UNFINISHED})
        EXECUTE FUNCTION tasks_after_end()`,
    ];
    for (const sql of statements) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS tasks_settle_dependants_on_end ON tasks`);
    await q.query(`DROP FUNCTION IF EXISTS tasks_after_end()`);
    await q.query(`DROP FUNCTION IF EXISTS settle_task_dependants(uuid, varchar)`);
    await q.query(`DROP TABLE IF EXISTS task_dependencies`);
  }
}
