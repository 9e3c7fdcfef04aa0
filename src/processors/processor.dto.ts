import { IsDefined, IsIn } from 'class-validator';
import { PROCESSOR_TYPES, ProcessorType } from './processor.resource';

export class ProcessorCreateAttributes {
  @IsIn(PROCESSOR_TYPES) processor_type!: ProcessorType;
  /** YAML or JSON text, or an object; checked against the type's shape by the service, which points at what is wrong. */
  @IsDefined() configuration!: unknown;
}

export class ProcessorUpdateAttributes {
  @IsDefined() configuration!: unknown;
}
