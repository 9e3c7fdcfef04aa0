import { Controller, Get, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { Endpoint } from '../../common/http/endpoint.decorator';
import { JsonApiQuery } from '../../common/http/request-params';
import { renderDocument } from '../../common/jsonapi/document';
import { listMeta } from '../../common/jsonapi/paging';
import { ParsedQuery, QuerySpec } from '../../common/jsonapi/query-spec';
import { Example } from '../../common/jsonapi/example';
import { ParsedResourceBody } from '../../common/jsonapi/request-body';
import { ResourceBody } from '../../common/jsonapi/resource-body.decorator';
import { ProviderLifecycleService } from '../provider-lifecycle.service';
import { TaskAccepted } from '../task-accepted.decorator';
import { DAILY_SCHEDULE_FIELDS, dailyScheduleResource } from './daily-schedule.resource';
import { DailySchedulesService } from './daily-schedules.service';

class DailyScheduleAttributes {
  @Example('5c1e8f3a-2b4d-4c6e-8f0a-1b3d5e7f9a2c')
  @IsUUID('all', { message: 'provider_id must be a UUID.' })
  provider_id!: string;
}

const SCHEDULE_LIST: QuerySpec = {
  filters: { provider: { type: 'uuid', operators: ['eq', 'in'] } },
  sorts: ['inserted_at', 'starts_at'],
  defaultSort: '-inserted_at',
  fields: { 'daily-schedules': DAILY_SCHEDULE_FIELDS },
};

@ApiTags('Schedule')
@Controller('schedules/daily')
export class DailySchedulesController {
  constructor(
    private readonly schedules: DailySchedulesService,
    private readonly lifecycle: ProviderLifecycleService,
  ) {}

  @Post()
  @TaskAccepted({ summary: 'Scan a provider every 24 hours, starting now', permissions: ['manage_scans'] })
  async create(@ResourceBody({ type: 'daily-schedules', attributes: DailyScheduleAttributes }) { attributes }: ParsedResourceBody<DailyScheduleAttributes>) {
    return this.lifecycle.scheduleDaily(attributes.provider_id.toLowerCase());
  }

  @Get()
  @Endpoint({ summary: 'The daily scan schedules of the providers you may see', resource: dailyScheduleResource, list: true })
  async list(@JsonApiQuery(SCHEDULE_LIST) query: ParsedQuery) {
    const { rows, count } = await this.schedules.list(query);
    return renderDocument(dailyScheduleResource, rows, { fields: query.fields, meta: listMeta(query.page, count) });
  }
}
