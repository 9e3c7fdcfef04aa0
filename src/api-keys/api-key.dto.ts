import { IsDateString, IsOptional, IsString, Length } from 'class-validator';

export class ApiKeyCreateAttributes {
  @IsString() @Length(3, 100) name!: string;
  @IsOptional() @IsDateString({ strict: true }) expires_at?: string;
}

export class ApiKeyUpdateAttributes {
  @IsString() @Length(3, 100) name!: string;
}
