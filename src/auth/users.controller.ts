import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/http/endpoint.decorator';
import { JsonApiQuery, UuidPipe } from '../common/http/request-params';
import { renderDocument } from '../common/jsonapi/document';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { parseResourceBody } from '../common/jsonapi/request-body';
import { SignUpAttributes, UpdateUserAttributes } from './user.dto';
import { USER_FIELDS, userResource } from './user.resource';
import { UsersService } from './users.service';

const DETAIL_QUERY = { fields: { users: USER_FIELDS } };

@ApiTags('User')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @Endpoint({ summary: 'Sign up: create a user with their own tenant', public: true, status: 201 })
  async signUp(@Body() body: unknown) {
    const { attributes } = await parseResourceBody(body, { type: 'users', attributes: SignUpAttributes });
    return renderDocument(userResource, await this.users.signUp(attributes));
  }

  @Get('me')
  @Endpoint({ summary: 'The signed-in user' })
  async me(@JsonApiQuery(DETAIL_QUERY) query: ParsedQuery) {
    return renderDocument(userResource, await this.users.me(), { fields: query.fields });
  }

  @Get(':id')
  @Endpoint({ summary: 'A user of the current tenant' })
  async get(@Param('id', UuidPipe) id: string, @JsonApiQuery(DETAIL_QUERY) query: ParsedQuery) {
    return renderDocument(userResource, await this.users.get(id), { fields: query.fields });
  }

  @Patch(':id')
  @Endpoint({ summary: 'Update your own user' })
  async update(@Param('id', UuidPipe) id: string, @Body() body: unknown) {
    const { attributes } = await parseResourceBody(body, { type: 'users', attributes: UpdateUserAttributes, id });
    return renderDocument(userResource, await this.users.updateSelf(id, attributes));
  }
}
