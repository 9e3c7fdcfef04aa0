import { Controller, Get, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Endpoint } from '../../common/http/endpoint.decorator';
import { JsonApiQuery } from '../../common/http/request-params';
import { renderDocument } from '../../common/jsonapi/document';
import { ParsedQuery } from '../../common/jsonapi/query-spec';
import { sendDocument, sendTaskAccepted } from '../http/task-or-document';
import {
  COMPLIANCE_ATTRIBUTES,
  COMPLIANCE_METADATA,
  COMPLIANCE_OVERVIEW_LIST,
  COMPLIANCE_REQUIREMENT_LIST,
  complianceAttributesResource,
  complianceMetadataResource,
  complianceOverviewResource,
  requirementDetailResource,
} from './compliance.resources';
import { ComplianceService } from './compliance.service';

@ApiTags('Compliance Overview')
@Controller('compliance-overviews')
export class ComplianceController {
  constructor(private readonly compliance: ComplianceService) {}

  @Get()
  @Endpoint({ summary: "Compliance per framework of a scan (filter[scan_id]) or of each provider's latest completed scan; 202 while it is computed", resource: complianceOverviewResource, list: true, mayAccept: true })
  async list(@JsonApiQuery(COMPLIANCE_OVERVIEW_LIST) query: ParsedQuery, @Res() reply: FastifyReply) {
    const answer = await this.compliance.overviews(query);
    if ('task' in answer) return sendTaskAccepted(reply, answer.task);
    return sendDocument(reply, await renderDocument(complianceOverviewResource, answer.rows, { fields: query.fields, meta: answer.meta }));
  }

  @Get('metadata')
  @Endpoint({ summary: "The regions the compliance of a scan (filter[scan_id]) or of each provider's latest completed scan covers; 202 while it is computed", resource: complianceMetadataResource, mayAccept: true })
  async metadata(@JsonApiQuery(COMPLIANCE_METADATA) query: ParsedQuery, @Res() reply: FastifyReply) {
    const answer = await this.compliance.metadata(query.filters);
    if ('task' in answer) return sendTaskAccepted(reply, answer.task);
    return sendDocument(reply, renderDocument(complianceMetadataResource, answer.metadata, { fields: query.fields }));
  }

  @Get('attributes')
  @Endpoint({ summary: 'Every requirement of one loaded framework (filter[compliance_id]) with its attributes and check ids; 404 for a framework not loaded', resource: complianceAttributesResource, list: true })
  async attributes(@JsonApiQuery(COMPLIANCE_ATTRIBUTES) query: ParsedQuery, @Res() reply: FastifyReply) {
    const rows = await this.compliance.attributes(query.filters);
    return sendDocument(reply, await renderDocument(complianceAttributesResource, rows, { fields: query.fields }));
  }

  @Get('requirements')
  @Endpoint({ summary: 'The requirements of one framework (filter[compliance_id]) with their status across regions; 202 while it is computed', resource: requirementDetailResource, list: true, mayAccept: true })
  async requirements(@JsonApiQuery(COMPLIANCE_REQUIREMENT_LIST) query: ParsedQuery, @Res() reply: FastifyReply) {
    const answer = await this.compliance.requirements(query);
    if ('task' in answer) return sendTaskAccepted(reply, answer.task);
    return sendDocument(reply, await renderDocument(requirementDetailResource, answer.rows, { fields: query.fields, meta: answer.meta }));
  }
}
