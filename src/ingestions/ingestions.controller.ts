import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { Endpoint } from '../common/http/endpoint.decorator';
import { UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { AuthorizeBeforeBody, authorizedPrincipal } from '../database/tenant.interceptor';
import { ingestionLocation, ingestionResource } from './ingestion.resource';
import { IngestionsService } from './ingestions.service';

/** Where `prowler <provider> --push-to-cloud` sends its findings (`{PROWLER_CLOUD_API_BASE_URL}/api/v1/ingestions`). */
@ApiTags('Ingestions')
@Controller('ingestions')
export class IngestionsController {
  constructor(private readonly ingestions: IngestionsService) {}

  @Post()
  @AuthorizeBeforeBody()
  @Endpoint({
    summary:
      'Take the findings the Prowler CLI pushes (multipart, one part named file): the provider is found by the records’ type and account, or created when your role may manage providers, and a manual scan ingests them',
    status: 202,
    permissions: ['manage_scans'],
    resource: ingestionResource,
    body: {
      multipart: {
        type: 'object',
        required: ['file'],
        properties: { file: { type: 'string', format: 'binary', description: 'Prowler `-M json-ocsf` output, plain or gzipped; at most SCAN_IMPORT_MAX_BYTES.' } },
      },
    },
  })
  async ingest(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const { user } = request as FastifyRequest & { user?: AuthenticatedUser };
    const ingestion = await this.ingestions.receive(request, authorizedPrincipal(request), user?.apiKeyId);
    reply.header('content-location', ingestionLocation(ingestion.task.id));
    return renderDocument(ingestionResource, ingestion);
  }

  @Get(':id')
  @Endpoint({ summary: 'How a push is going: finding its provider, then ingesting its findings as a scan', resource: ingestionResource })
  async get(@Param('id', UuidPipe) id: string) {
    return renderDocument(ingestionResource, await this.ingestions.get(id));
  }
}
