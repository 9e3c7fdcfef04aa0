import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiError } from '../../../common/errors/api-error';
import { Endpoint } from '../../../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../../../common/http/request-params';
import { QuerySpec } from '../../../common/jsonapi/query-spec';
import { sendTaskAccepted } from '../../http/task-or-document';
import { ReportStorage } from '../report-storage';
import { ComplianceArtifact } from './compliance-reports-builder';
import { ComplianceReportsService } from './compliance-reports.service';
import { PdfReportKind } from './compliance-report-files';

/** The contract lists these parameters for the routes; nothing else is taken. */
const EXPORT_QUERY: QuerySpec = { fields: { 'scan-reports': ['id', 'name'] } };
const PDF_QUERY: QuerySpec = {
  fields: {
    scans: ['name', 'trigger', 'state', 'unique_resource_count', 'progress', 'duration', 'provider', 'task', 'inserted_at', 'started_at', 'completed_at', 'scheduled_at', 'next_scan_at', 'processor', 'url'],
  },
  includes: ['provider'],
};

/** Compliance ids are file names of Prowler's folder: anything else names no framework. */
const COMPLIANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', ocsf: 'application/json', pdf: 'application/pdf' };

@ApiTags('Scan')
@Controller('scans')
export class ComplianceReportsController {
  constructor(
    private readonly reports: ComplianceReportsService,
    private readonly storage: ReportStorage,
  ) {}

  @Get(':id/compliance/:name')
  @Endpoint({ summary: "One framework's compliance report of the scan as CSV (e.g. cis_2.0_aws); 202 while it is built, 404 when there is none", produces: CONTENT_TYPES.csv, mayAccept: true })
  csv(@Param('id', UuidPipe) id: string, @Param('name') name: string, @JsonApiQuery(EXPORT_QUERY) _query: unknown, @Res() reply: FastifyReply) {
    return this.send(reply, id, { format: 'csv', complianceId: complianceName(name) });
  }

  @Get(':id/compliance/:name/ocsf')
  @Endpoint({ summary: "A universal framework's compliance report of the scan as OCSF JSON (e.g. csa_ccm_4.0); 202 while it is built, 404 when there is none", produces: CONTENT_TYPES.ocsf, mayAccept: true })
  ocsf(@Param('id', UuidPipe) id: string, @Param('name') name: string, @JsonApiQuery(EXPORT_QUERY) _query: unknown, @Res() reply: FastifyReply) {
    return this.send(reply, id, { format: 'ocsf', complianceId: complianceName(name) });
  }

  @Get(':id/cis')
  @Endpoint({ summary: 'The CIS Benchmark PDF report of the scan (highest CIS version loaded); 202 while it is built, 404 when there is none', produces: CONTENT_TYPES.pdf, mayAccept: true })
  cis(@Param('id', UuidPipe) id: string, @JsonApiQuery(PDF_QUERY) _query: unknown, @Res() reply: FastifyReply) {
    return this.pdf(reply, id, 'cis');
  }

  @Get(':id/csa')
  @Endpoint({ summary: 'The CSA Cloud Controls Matrix PDF report of the scan; 202 while it is built, 404 when there is none', produces: CONTENT_TYPES.pdf, mayAccept: true })
  csa(@Param('id', UuidPipe) id: string, @JsonApiQuery(PDF_QUERY) _query: unknown, @Res() reply: FastifyReply) {
    return this.pdf(reply, id, 'csa');
  }

  @Get(':id/ens')
  @Endpoint({ summary: 'The ENS RD2022 PDF report of the scan; 202 while it is built, 404 when there is none', produces: CONTENT_TYPES.pdf, mayAccept: true })
  ens(@Param('id', UuidPipe) id: string, @JsonApiQuery(PDF_QUERY) _query: unknown, @Res() reply: FastifyReply) {
    return this.pdf(reply, id, 'ens');
  }

  @Get(':id/nis2')
  @Endpoint({ summary: 'The NIS2 PDF report of the scan; 202 while it is built, 404 when there is none', produces: CONTENT_TYPES.pdf, mayAccept: true })
  nis2(@Param('id', UuidPipe) id: string, @JsonApiQuery(PDF_QUERY) _query: unknown, @Res() reply: FastifyReply) {
    return this.pdf(reply, id, 'nis2');
  }

  @Get(':id/threatscore')
  @Endpoint({ summary: 'The Prowler ThreatScore PDF report of the scan; 202 while it is built, 404 when there is none', produces: CONTENT_TYPES.pdf, mayAccept: true })
  threatscore(@Param('id', UuidPipe) id: string, @JsonApiQuery(PDF_QUERY) _query: unknown, @Res() reply: FastifyReply) {
    return this.pdf(reply, id, 'threatscore');
  }

  private pdf(reply: FastifyReply, id: string, kind: PdfReportKind) {
    return this.send(reply, id, { format: 'pdf', kind });
  }

  private async send(reply: FastifyReply, id: string, artifact: ComplianceArtifact) {
    const answer = await this.reports.report(id, artifact);
    if ('task' in answer) return sendTaskAccepted(reply, answer.task);
    const { size } = await answer.file.stat().catch(async (error) => {
      await answer.file.close();
      throw error;
    });
    // Bounded by the size sent as content-length, as the scan report is (see ScanReportsController).
    const stream = answer.file.createReadStream({ start: 0, end: Math.max(size - 1, 0) });
    const built = answer.builtFolder;
    if (built) stream.once('close', () => void this.storage.discardFolder(built));
    return reply
      .status(200)
      .type(CONTENT_TYPES[artifact.format])
      .header('content-length', size)
      .header('content-disposition', `attachment; filename="scan-${id}-${answer.fileName}"`)
      .send(stream);
  }
}

function complianceName(name: string): string {
  if (!COMPLIANCE_NAME.test(name)) throw ApiError.notFound('No compliance framework of this name is loaded.');
  return name;
}
