import { Inject, Injectable, Logger } from '@nestjs/common';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { DOMParser } from '@xmldom/xmldom';
import Redis from 'ioredis';
import type { EntityManager } from 'typeorm';
import * as xpath from 'xpath';
import { TokenPair, TokenService } from '../auth/token.service';
import { ApiError } from '../common/errors/api-error';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TenantDatabase } from '../database/tenant-database';
import { newId } from '../database/uuid';
import { PERMISSIONS } from '../rbac/permissions';
import { REDIS } from '../redis/redis.module';
import { RedisSamlRequestCache, SAML_REQUEST_TTL_MS } from './saml-request-cache';

interface ConfigRow {
  tenant_id: string;
  email_domain: string;
  idp_entity_id: string;
  idp_sso_url: string;
  idp_certificates: string[];
}

/** A SAML-created user has no password; this value never verifies as one (it is no argon2 hash). */
const NO_PASSWORD = '!saml';
/** Prowler's fallback for SAML users without a role: sees everything, may change nothing. */
const DEFAULT_ROLE_NAME = 'read_only';
const SAML_FAILED = new ApiError(401, 'saml_failed', 'The SAML sign-in was not accepted.');
const select = xpath.useNamespaces({ saml: 'urn:oasis:names:tc:SAML:2.0:assertion', samlp: 'urn:oasis:names:tc:SAML:2.0:protocol' });

/**
 * SP-initiated SAML sign-in. node-saml checks the assertion's signature
 * against the certificates of the tenant's IdP metadata, its audience (this
 * SP), its time window and that it answers a request this SP issued; here
 * the recipient and destination (this ACS URL) and replay (its assertion id,
 * remembered in Redis until it expires) are checked as well. Then the user
 * signs in, or is created with a membership and the tenant's default role.
 */
@Injectable()
export class SamlSignInService {
  private readonly logger = new Logger(SamlSignInService.name);
  private readonly requests: RedisSamlRequestCache;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly database: TenantDatabase,
    private readonly tokens: TokenService,
  ) {
    this.requests = new RedisSamlRequestCache(redis);
  }

  /** The IdP URL that starts a sign-in for this email (or bare domain); 403 when no tenant uses SAML for it. */
  async initiate(email: string): Promise<string> {
    const domain = email.split('@').pop()!.trim().toLowerCase();
    const config = await this.configFor(domain);
    if (!config) throw new ApiError(403, 'permission_denied', 'Unauthorized domain.');
    return this.samlFor(config).getAuthorizeUrlAsync('', undefined, {});
  }

  async consume(domain: string, samlResponse: unknown): Promise<TokenPair> {
    const config = typeof samlResponse === 'string' && samlResponse.length > 0 ? await this.configFor(domain.toLowerCase()) : undefined;
    if (!config) throw SAML_FAILED;
    let email: string;
    try {
      const { profile } = await this.samlFor(config).validatePostResponseAsync({ SAMLResponse: samlResponse as string });
      if (!profile) throw new Error('no profile in the response');
      const assertion = parse(profile.getAssertionXml?.() ?? '');
      const acs = this.acsUrl(config.email_domain);
      this.checkDestinations(samlResponse as string, assertion, acs);
      await this.refuseReplay(assertion);
      email = String(profile.email ?? profile.mail ?? profile.nameID ?? '').trim().toLowerCase();
    } catch (error) {
      if (error instanceof ApiError) throw error;
      this.logger.warn(`SAML response refused for ${config.email_domain}: ${(error as Error).message}`);
      throw SAML_FAILED;
    }
    if (email.split('@')[1] !== config.email_domain) {
      throw new ApiError(401, 'saml_failed', `The IdP vouched for an address outside ${config.email_domain}.`);
    }
    const userId = await this.database.adminTransaction((admin) => this.signInOrCreate(admin, email, config.tenant_id));
    return this.tokens.issuePair(userId, config.tenant_id);
  }

  acsUrl(domain: string): string {
    return `${this.config.saml.apiBaseUrl}/api/v1/accounts/saml/${encodeURIComponent(domain)}/acs/`;
  }

  entityId(domain: string): string {
    return `${this.config.saml.apiBaseUrl}/api/v1/accounts/saml/${encodeURIComponent(domain)}/metadata/`;
  }

  private samlFor(config: ConfigRow): SAML {
    return new SAML({
      issuer: this.entityId(config.email_domain),
      audience: this.entityId(config.email_domain),
      callbackUrl: this.acsUrl(config.email_domain),
      entryPoint: config.idp_sso_url,
      idpIssuer: config.idp_entity_id,
      idpCert: config.idp_certificates,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: false,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: SAML_REQUEST_TTL_MS,
      cacheProvider: this.requests,
      acceptedClockSkewMs: 30_000,
      disableRequestedAuthnContext: true,
    });
  }

  /** Before any tenant is known, like sign-in: the domain is how the tenant is found. */
  private async configFor(domain: string): Promise<ConfigRow | undefined> {
    const [row] = await this.database.adminReadQuery<ConfigRow>(
      `SELECT tenant_id, email_domain, idp_entity_id, idp_sso_url, idp_certificates FROM saml_configurations WHERE email_domain = $1`,
      [domain],
    );
    return row;
  }

  /** The assertion must be addressed to this ACS URL (SubjectConfirmationData Recipient), and so must the response if it says. */
  private checkDestinations(samlResponse: string, assertion: Document, acs: string): void {
    const recipients = (select('//saml:SubjectConfirmation/saml:SubjectConfirmationData/@Recipient', assertion as unknown as Node) as Attr[]).map((a) => a.value);
    if (recipients.length === 0 || recipients.some((recipient) => recipient !== acs)) throw new Error(`recipient ${recipients.join(', ') || 'missing'}, expected ${acs}`);
    const response = parse(Buffer.from(samlResponse, 'base64').toString('utf8'));
    const destination = (select('/samlp:Response/@Destination', response as unknown as Node) as Attr[])[0]?.value;
    if (destination !== undefined && destination !== acs) throw new Error(`destination ${destination}, expected ${acs}`);
  }

  /** Each assertion signs in once: its id is remembered until it expires. */
  private async refuseReplay(assertion: Document): Promise<void> {
    const id = (select('/saml:Assertion/@ID', assertion as unknown as Node) as Attr[])[0]?.value;
    if (!id) throw new Error('the assertion has no ID');
    const times = (select('/saml:Assertion/saml:Conditions/@NotOnOrAfter | //saml:SubjectConfirmationData/@NotOnOrAfter', assertion as unknown as Node) as Attr[])
      .map((a) => Date.parse(a.value))
      .filter((t) => Number.isFinite(t));
    const expiresAt = times.length > 0 ? Math.max(...times) : Date.now() + SAML_REQUEST_TTL_MS;
    const ttl = Math.max(1000, expiresAt - Date.now() + 60_000);
    const fresh = await this.redis.set(`saml:assertion:${id}`, '1', 'PX', ttl, 'NX');
    if (fresh !== 'OK') throw new ApiError(401, 'saml_failed', 'This SAML assertion was already used.');
  }

  /** Cross-tenant by design: users are global, found by email; the membership and role are the configured tenant's. */
  private async signInOrCreate(admin: EntityManager, email: string, tenantId: string): Promise<string> {
    await admin.query(
      `INSERT INTO users (id, name, email, password) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [newId(), email.split('@')[0].slice(0, 150), email, NO_PASSWORD],
    );
    const [user] = (await admin.query(`SELECT id, is_active FROM users WHERE lower(email) = lower($1)`, [email])) as Array<{ id: string; is_active: boolean }>;
    if (!user?.is_active) throw new ApiError(401, 'saml_failed', 'This account is not active.');
    const joined = (await admin.query(
      `INSERT INTO memberships (id, tenant_id, user_id, role) VALUES ($1, $2, $3, 'member') ON CONFLICT DO NOTHING RETURNING id`,
      [newId(), tenantId, user.id],
    )) as unknown[];
    if (joined.length > 0) {
      await admin.query(`INSERT INTO user_roles (id, tenant_id, user_id, role_id) VALUES ($1, $2, $3, $4)`, [newId(), tenantId, user.id, await defaultRole(admin, tenantId)]);
    }
    return user.id;
  }
}

function parse(xml: string): Document {
  const errors: string[] = [];
  const document = new DOMParser({ errorHandler: (level: string, message: unknown) => void (level !== 'warning' && errors.push(String(message))) }).parseFromString(xml, 'text/xml');
  if (errors.length > 0 || !document?.documentElement) throw new Error('malformed XML');
  return document as unknown as Document;
}

/** The tenant's read-only role (every permission off, unlimited visibility), created the first time it is needed. */
async function defaultRole(admin: EntityManager, tenantId: string): Promise<string> {
  const readOnly = `${PERMISSIONS.filter((p) => p !== 'unlimited_visibility').map((p) => `NOT ${p}`).join(' AND ')} AND unlimited_visibility`;
  const [existing] = (await admin.query(`SELECT id FROM roles WHERE tenant_id = $1 AND name = $2 AND ${readOnly}`, [tenantId, DEFAULT_ROLE_NAME])) as Array<{ id: string }>;
  if (existing) return existing.id;
  const id = newId();
  const name = (await admin.query(`SELECT 1 FROM roles WHERE tenant_id = $1 AND name = $2`, [tenantId, DEFAULT_ROLE_NAME])).length > 0 ? `${DEFAULT_ROLE_NAME}_${id.slice(-6)}` : DEFAULT_ROLE_NAME;
  await admin.query(
    `INSERT INTO roles (id, tenant_id, name, ${PERMISSIONS.join(', ')}) VALUES ($1, $2, $3, ${PERMISSIONS.map((p) => (p === 'unlimited_visibility' ? 'true' : 'false')).join(', ')})`,
    [id, tenantId, name],
  );
  return id;
}
