import { IsOptional, IsString, Length } from 'class-validator';

export class CreateScanAttributes {
  @IsOptional() @IsString() @Length(3, 100) name?: string | null;
}

export class UpdateScanAttributes {
  @IsOptional() @IsString() @Length(3, 100) name?: string | null;
}
