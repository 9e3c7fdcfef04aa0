import { Controller, Delete, Get, Param } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { listMeta } from '../common/jsonapi/paging';
import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { TaskAccepted } from './task-accepted.decorator';
import { TASK_FIELDS, TASK_STATES, taskResource } from './task.resource';
import { TasksService } from './tasks.service';

const TASK_LIST: QuerySpec = {
  filters: {
    name: { type: 'string', operators: ['eq', 'icontains'] },
    state: { type: 'enum', operators: ['eq', 'in'], values: TASK_STATES },
    search: { type: 'string', operators: ['eq'] },
  },
  sorts: ['inserted_at', 'completed_at', 'name', 'state'],
  defaultSort: '-inserted_at',
  fields: { tasks: TASK_FIELDS },
};
const TASK_DETAIL: QuerySpec = { fields: TASK_LIST.fields };

@ApiTags('Task')
@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Get()
  @Endpoint({ summary: 'List the tasks you may see', resource: taskResource, list: true })
  async list(@JsonApiQuery(TASK_LIST) query: ParsedQuery) {
    const { rows, count } = await this.tasks.list(query);
    return renderDocument(taskResource, rows, { fields: query.fields, meta: listMeta(query.page, count) });
  }

  @Get(':id')
  @Endpoint({ summary: 'A task', resource: taskResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(TASK_DETAIL) query: ParsedQuery) {
    return renderDocument(taskResource, await this.tasks.get(id), { fields: query.fields });
  }

  @Delete(':id')
  @TaskAccepted({ summary: 'Cancel a task: a waiting one at once, an executing one through its abort signal' })
  cancel(@Param('id', UuidPipe) id: string) {
    return this.tasks.cancel(id);
  }
}
