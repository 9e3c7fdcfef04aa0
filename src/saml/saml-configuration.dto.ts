import { IsString, Length, Matches } from 'class-validator';
import { Example } from '../common/jsonapi/example';
import { IDP_METADATA_EXAMPLE } from './idp-metadata-example';

/** A domain name, without the @ and the local part; stored in lower case. */
const EMAIL_DOMAIN = /^(?=.{1,254}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;
/** Metadata documents with several IdPs and certificates stay well under this. */
const METADATA_MAX = 200_000;

export class SamlConfigurationCreateAttributes {
  @Example('example.com') @IsString() @Matches(EMAIL_DOMAIN, { message: 'email_domain must be a domain name such as example.com' }) email_domain!: string;
  @Example(IDP_METADATA_EXAMPLE) @IsString() @Length(1, METADATA_MAX) metadata_xml!: string;
}

export class SamlConfigurationUpdateAttributes {
  @Example('corp.example.com') @IsString() @Matches(EMAIL_DOMAIN, { message: 'email_domain must be a domain name such as example.com' }) email_domain?: string;
  @Example(IDP_METADATA_EXAMPLE) @IsString() @Length(1, METADATA_MAX) metadata_xml?: string;
}
