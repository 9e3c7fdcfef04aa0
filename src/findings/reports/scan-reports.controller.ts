import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Endpoint } from '../../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../../common/http/request-params';
import { QuerySpec } from '../../common/jsonapi/query-spec';
import { sendTaskAccepted } from '../http/task-or-document';
import { ReportStorage } from './report-storage';
import { ScanReportsService } from './scan-reports.service';

/** The contract lists a sparse fieldset for this route; nothing else is taken. */
const REPORT_QUERY: QuerySpec = { fields: { 'scan-reports': ['id'] } };

@ApiTags('Scan')
@Controller('scans')
export class ScanReportsController {
  constructor(
    private readonly reports: ScanReportsService,
    private readonly storage: ReportStorage,
  ) {}

  @Get(':id/report')
  @Endpoint({ summary: "Download the scan's report zip (CSV, JSON-OCSF, HTML); 202 while it is built, 404 when there is none", produces: 'application/zip', mayAccept: true })
  async report(@Param('id', UuidPipe) id: string, @JsonApiQuery(REPORT_QUERY) _query: unknown, @Res() reply: FastifyReply) {
    const answer = await this.reports.report(id);
    if ('task' in answer) return sendTaskAccepted(reply, answer.task);
    const { size } = await answer.file.stat().catch(async (error) => {
      await answer.file.close();
      throw error;
    });
    // Bounded by the size sent as content-length: the stream ends with its last chunk, not one read later, so a client
    // that closes as soon as it has every byte does not cut the stream short (Fastify logs that as a premature close).
    const stream = answer.file.createReadStream({ start: 0, end: Math.max(size - 1, 0) });
    const builtForRequest = answer.path;
    if (builtForRequest) stream.once('close', () => void this.storage.discard(builtForRequest));
    return reply
      .status(200)
      .type('application/zip')
      .header('content-length', size)
      .header('content-disposition', `attachment; filename="scan-${id}-report.zip"`)
      .send(stream);
  }
}
