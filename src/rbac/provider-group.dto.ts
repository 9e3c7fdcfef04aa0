import { IsDefined, IsOptional, IsString, Length } from 'class-validator';
import { Example } from '../common/jsonapi/example';

export class CreateProviderGroupAttributes {
  @Example('Production accounts') @IsDefined() @IsString() @Length(1, 255) name!: string;
}

export class UpdateProviderGroupAttributes {
  @Example('Production and staging accounts') @IsOptional() @IsString() @Length(1, 255) name?: string;
}
