import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsString, IsUUID, Length } from 'class-validator';

/** Findings one rule may name at once. */
export const MAX_FINDINGS_PER_RULE = 1000;

export class MuteRuleCreateAttributes {
  @IsString() @Length(3, 100) name!: string;
  @IsString() @Length(3, 500) reason!: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_FINDINGS_PER_RULE) @IsUUID('all', { each: true }) finding_ids!: string[];
}

export class MuteRuleUpdateAttributes {
  @IsString() @Length(3, 100) name?: string;
  @IsString() @Length(3, 500) reason?: string;
  @IsBoolean() enabled?: boolean;
}
