import { IsDefined, IsIn } from 'class-validator';
import { PROCESSOR_TYPES, ProcessorType } from './processor.resource';
import { Example } from '../common/jsonapi/example';
import { Omittable } from '../common/jsonapi/omittable';

export class ProcessorCreateAttributes {
  @Example('mutelist') @IsIn(PROCESSOR_TYPES) processor_type!: ProcessorType;
  /** YAML or JSON text, or an object; checked against the type's shape by the service, which points at what is wrong. */
  @Example({ Mutelist: { Accounts: { '123456789012': { Checks: { s3_bucket_public_access: { Regions: ['*'], Resources: ['acme-public-website'], Description: 'The public website bucket' } } } } } }) @IsDefined() configuration!: unknown;
}

/** `configuration` is required, but checked by the service once the processor is found: another tenant's id is a 404 whatever the body. */
export class ProcessorUpdateAttributes {
  @Example({ Mutelist: { Accounts: { '123456789012': { Checks: { s3_bucket_public_access: { Regions: ['*'], Resources: ['acme-public-website'], Description: 'The public website bucket' } } } } } }) @Omittable() configuration?: unknown;
}
