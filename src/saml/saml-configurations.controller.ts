import { Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { listMeta } from '../common/jsonapi/paging';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { SamlConfigurationCreateAttributes, SamlConfigurationUpdateAttributes } from './saml-configuration.dto';
import { SAML_CONFIGURATION_DETAIL, SAML_CONFIGURATION_LIST, samlConfigurationResource } from './saml-configuration.resource';
import { SamlConfigurationsService } from './saml-configurations.service';

/** Prowler guards SAML configuration with manage_integrations. */
@ApiTags('SAML')
@Controller('saml-config')
export class SamlConfigurationsController {
  constructor(private readonly configurations: SamlConfigurationsService) {}

  @Get()
  @Endpoint({ summary: 'The tenant’s SAML configuration (a list of at most one)', permissions: ['manage_integrations'], resource: samlConfigurationResource, list: true })
  async list(@JsonApiQuery(SAML_CONFIGURATION_LIST) query: ParsedQuery) {
    const { rows, count } = await this.configurations.list(query);
    return renderDocument(samlConfigurationResource, rows, { fields: query.fields, meta: listMeta(query.page, count) });
  }

  @Post()
  @Endpoint({ summary: 'Configure SAML sign-in: an email domain and the IdP’s metadata XML (checked now)', status: 201, permissions: ['manage_integrations'], resource: samlConfigurationResource })
  async create(@ResourceBody({ type: 'saml-configurations', attributes: SamlConfigurationCreateAttributes }) { attributes }: ParsedResourceBody<SamlConfigurationCreateAttributes>) {
    return renderDocument(samlConfigurationResource, await this.configurations.create(attributes));
  }

  @Get(':id')
  @Endpoint({ summary: 'One SAML configuration', permissions: ['manage_integrations'], resource: samlConfigurationResource })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(SAML_CONFIGURATION_DETAIL) query: ParsedQuery) {
    return renderDocument(samlConfigurationResource, await this.configurations.get(id), { fields: query.fields });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Change the email domain or the IdP metadata', permissions: ['manage_integrations'], resource: samlConfigurationResource })
  async update(@Param('id', UuidPipe) id: string, @ResourceBody({ type: 'saml-configurations', attributes: SamlConfigurationUpdateAttributes, idFromParam: 'id' }) { attributes }: ParsedResourceBody<SamlConfigurationUpdateAttributes>) {
    return renderDocument(samlConfigurationResource, await this.configurations.update(id, attributes));
  }

  @Delete(':id')
  @Endpoint({ summary: 'Turn SAML sign-in off for the tenant', status: 204, permissions: ['manage_integrations'] })
  async remove(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.configurations.remove(id);
  }
}
