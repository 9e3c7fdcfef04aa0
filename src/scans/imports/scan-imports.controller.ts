import { Controller, Post, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuthorizeBeforeBody, authorizedPrincipal } from '../../database/tenant.interceptor';
import { TaskAccepted } from '../../tasks/task-accepted.decorator';
import { ScanImportsService } from './scan-imports.service';

@ApiTags('Scan')
@Controller('scans/imports')
export class ScanImportsController {
  constructor(private readonly imports: ScanImportsService) {}

  @Post()
  @AuthorizeBeforeBody()
  @TaskAccepted({
    summary: 'Import a Prowler JSON-OCSF file (plain or gzipped) as a new scan: multipart fields provider_id, file and optionally name',
    permissions: ['manage_scans'],
    body: {
      multipart: {
        type: 'object',
        required: ['provider_id', 'file'],
        properties: {
          provider_id: { type: 'string', format: 'uuid', description: 'The provider the findings belong to; its type must match the records’.' },
          name: { type: 'string', minLength: 3, maxLength: 100, description: 'The scan’s name.' },
          file: { type: 'string', format: 'binary', description: 'Prowler `-M json-ocsf` output, plain or gzipped; at most SCAN_IMPORT_MAX_BYTES.' },
        },
      },
    },
  })
  import(@Req() request: FastifyRequest) {
    return this.imports.receive(request, authorizedPrincipal(request));
  }
}
