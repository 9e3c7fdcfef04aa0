import { IsDefined, IsIn, IsOptional } from 'class-validator';
import { PROCESSOR_TYPES, ProcessorType } from './processor.resource';

export class ProcessorCreateAttributes {
  @IsIn(PROCESSOR_TYPES) processor_type!: ProcessorType;
  /** YAML or JSON text, or an object; checked against the type's shape by the service, which points at what is wrong. */
  @IsDefined() configuration!: unknown;
}

/** `configuration` is required, but checked by the service once the processor is found: another tenant's id is a 404 whatever the body. */
export class ProcessorUpdateAttributes {
  @IsOptional() configuration?: unknown;
}
