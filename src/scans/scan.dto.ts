import { IsOptional, IsString, Length } from 'class-validator';
import { Example } from '../common/jsonapi/example';

export class CreateScanAttributes {
  @Example('Weekly production scan') @IsOptional() @IsString() @Length(3, 100) name?: string | null;
}

export class UpdateScanAttributes {
  @Example('Weekly production scan (EU)') @IsOptional() @IsString() @Length(3, 100) name?: string | null;
}
