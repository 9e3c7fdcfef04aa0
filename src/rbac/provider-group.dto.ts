import { IsDefined, IsString, Length } from 'class-validator';
import { Example } from '../common/jsonapi/example';
import { Omittable } from '../common/jsonapi/omittable';

export class CreateProviderGroupAttributes {
  @Example('Production accounts') @IsDefined() @IsString() @Length(1, 255) name!: string;
}

export class UpdateProviderGroupAttributes {
  @Example('Production and staging accounts') @Omittable() @IsString() @Length(1, 255) name?: string;
}
