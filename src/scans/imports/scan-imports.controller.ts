import { Controller, Post, Req } from '@nestjs/common';
import { ApiConsumes, ApiTags } from '@nestjs/swagger';
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
  @ApiConsumes('multipart/form-data')
  @TaskAccepted({
    summary: 'Import a Prowler JSON-OCSF file (plain or gzipped) as a new scan: multipart fields provider_id, file and optionally name',
    permissions: ['manage_scans'],
  })
  import(@Req() request: FastifyRequest) {
    return this.imports.receive(request, authorizedPrincipal(request));
  }
}
