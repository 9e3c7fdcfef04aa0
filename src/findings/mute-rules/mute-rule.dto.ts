import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsString, IsUUID, Length } from 'class-validator';
import { Example } from '../../common/jsonapi/example';

/** Findings one rule may name at once. */
export const MAX_FINDINGS_PER_RULE = 1000;

export class MuteRuleCreateAttributes {
  @Example('Public website buckets') @IsString() @Length(3, 100) name!: string;
  @Example('These buckets serve the public website; public read is intended.') @IsString() @Length(3, 500) reason!: string;
  @Example(['0193f0a2-7c1e-7d3b-9a4f-2b6c8d0e1f3a']) @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_FINDINGS_PER_RULE) @IsUUID('all', { each: true }) finding_ids!: string[];
}

export class MuteRuleUpdateAttributes {
  @Example('Public website buckets (EU)') @IsString() @Length(3, 100) name?: string;
  @Example('The EU website buckets are public by design.') @IsString() @Length(3, 500) reason?: string;
  @Example(false) @IsBoolean() enabled?: boolean;
}
