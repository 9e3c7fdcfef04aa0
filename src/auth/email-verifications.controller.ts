import { Controller, Post } from '@nestjs/common';
import { boolean, objectOf, text } from '../common/jsonapi/attribute-schema';
import { ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { Endpoint } from '../common/http/endpoint.decorator';
import { Example } from '../common/jsonapi/example';
import { ParsedResourceBody } from '../common/jsonapi/request-body';
import { ResourceBody } from '../common/jsonapi/resource-body.decorator';
import { EmailVerificationService } from './email-verification.service';

export class ConfirmEmailAttributes {
  @Example('q8Lr2VtX5nB0cJ7mK3wZ9pF1sH6dG4yAeUiOoRbTlNk') @IsString() @Length(1, 512) token!: string;
}


const CONFIRMED_ANSWER = objectOf({
  data: objectOf({ type: { const: 'email-verifications' }, id: text, attributes: objectOf({ email: text, purpose: text, verified: boolean }) }),
});

@ApiTags('User')
@Controller('email-verifications')
export class EmailVerificationsController {
  constructor(private readonly verifications: EmailVerificationService) {}

  @Post()
  @Endpoint({ summary: 'Confirm an email address with the token mailed to it (a sign-up, or a change of address)', public: true, answer: CONFIRMED_ANSWER })
  async confirm(@ResourceBody({ type: 'email-verifications', attributes: ConfirmEmailAttributes }) { attributes }: ParsedResourceBody<ConfirmEmailAttributes>) {
    const confirmed = await this.verifications.confirm(attributes.token);
    return { data: { type: 'email-verifications', id: confirmed.id, attributes: { email: confirmed.email, purpose: confirmed.purpose, verified: true } } };
  }
}
