import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { affected, rows } from '../database/sql';
import { tenantManager } from '../database/tenant-context';
import { newId } from '../database/uuid';
import { filterConditions, ListColumns, orderBy, pagedList, SqlParams } from '../rbac/list-query-sql';
import { TasksService } from '../tasks/tasks.service';
import { MutelistConfiguration, MutelistFormatError, readMutelistConfiguration } from './mutelist/mutelist-document';
import { ProcessorCreateAttributes, ProcessorUpdateAttributes } from './processor.dto';
import { PROCESSOR_COLUMNS_SQL, PROCESSOR_LIST, ProcessorRow, ProcessorType } from './processor.resource';

const SORTS = { id: 'p.id', url: 'p.id', inserted_at: 'p.inserted_at', updated_at: 'p.updated_at', processor_type: 'p.processor_type', configuration: 'p.configuration::text' };
const LIST_COLUMNS: ListColumns = {
  // Prowler's view has a search filter over no fields: it narrows nothing.
  filters: { processor_type: 'p.processor_type', search: () => 'true' },
  sorts: SORTS,
  tieBreaker: 'p.id',
};

/**
 * The tenant's processors: one per type, the only type being `mutelist`.
 * Every write of a Mutelist (and its removal) starts a `mutelist-backfill`
 * task in the same transaction, which brings the latest findings in line
 * with the Mutelist now in force.
 */
@Injectable()
export class ProcessorsService {
  constructor(private readonly tasks: TasksService) {}

  list(query: ParsedQuery): Promise<{ rows: ProcessorRow[]; count: number }> {
    const params = new SqlParams();
    return pagedList<ProcessorRow>({
      from: 'processors p',
      alias: 'p',
      columns: PROCESSOR_COLUMNS_SQL,
      where: filterConditions(query, PROCESSOR_LIST, LIST_COLUMNS, params),
      // Prowler's order after the requested one: by type, newest first.
      order: orderBy([...query.sort, { field: 'processor_type', descending: false }, { field: 'inserted_at', descending: true }], LIST_COLUMNS),
      page: query.page,
      params,
    });
  }

  async get(id: string): Promise<ProcessorRow> {
    const [found] = await rows<ProcessorRow>(tenantManager(), `SELECT ${PROCESSOR_COLUMNS_SQL} FROM processors p WHERE p.id = $1`, [id]);
    if (!found) throw ApiError.notFound('No processor with this id.');
    return found;
  }

  async create(attributes: ProcessorCreateAttributes): Promise<ProcessorRow> {
    const configuration = readConfiguration(attributes.processor_type, attributes.configuration);
    const [existing] = await rows(tenantManager(), `SELECT 1 FROM processors WHERE processor_type = $1`, [attributes.processor_type]);
    if (existing) throw ApiError.conflict('unique', 'A processor with the same type already exists.', { pointer: '/data/attributes/processor_type' });
    const id = newId();
    await rows(
      tenantManager(),
      `INSERT INTO processors (id, tenant_id, processor_type, configuration)
       VALUES ($1, NULLIF(current_setting('api.tenant_id', true), '')::uuid, $2, $3::jsonb)`,
      [id, attributes.processor_type, JSON.stringify(configuration)],
    );
    await this.backfill(attributes.processor_type);
    return this.get(id);
  }

  async update(id: string, attributes: ProcessorUpdateAttributes): Promise<ProcessorRow> {
    const current = await this.get(id);
    if (attributes.configuration === undefined || attributes.configuration === null) {
      throw ApiError.badRequest('required', 'configuration is required.', { pointer: '/data/attributes/configuration' });
    }
    const configuration = readConfiguration(current.processor_type, attributes.configuration);
    await affected(tenantManager(), `UPDATE processors SET configuration = $2::jsonb, updated_at = now() WHERE id = $1`, [id, JSON.stringify(configuration)]);
    await this.backfill(current.processor_type);
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    const [deleted] = await rows<{ processor_type: ProcessorType }>(tenantManager(), `DELETE FROM processors WHERE id = $1 RETURNING processor_type`, [id]);
    if (!deleted) throw ApiError.notFound('No processor with this id.');
    await this.backfill(deleted.processor_type);
  }

  private async backfill(type: ProcessorType): Promise<void> {
    if (type === 'mutelist') await this.tasks.enqueue({ name: 'mutelist-backfill', args: {} });
  }
}

/** The configuration as stored: parsed and checked, or a 400 pointing into it. */
function readConfiguration(type: ProcessorType, input: unknown): MutelistConfiguration {
  const base = '/data/attributes/configuration';
  switch (type) {
    case 'mutelist':
      try {
        return readMutelistConfiguration(input);
      } catch (error) {
        if (error instanceof MutelistFormatError) throw ApiError.badRequest('invalid', `Invalid Mutelist configuration: ${error.message}`, { pointer: `${base}${error.pointer}` });
        throw error;
      }
  }
}
