import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { SignedXml } from 'xml-crypto';

/**
 * An identity provider for the tests: its own RSA key pair and self-signed
 * certificate (made with openssl), its metadata, and SAML responses whose
 * assertion it signs with xml-crypto (what real IdPs produce: an enveloped,
 * exclusive-c14n, RSA-SHA256 signature on the Assertion).
 */
export class TestIdp {
  readonly entityId = `https://idp.test/${randomUUID()}`;
  readonly ssoUrl = 'https://idp.test/sso';
  readonly privateKey: string;
  readonly certificate: string;

  constructor() {
    const dir = mkdtempSync(join(tmpdir(), 'cspm-idp-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=test-idp'], { stdio: 'ignore' });
      this.privateKey = readFileSync(join(dir, 'key.pem'), 'utf8');
      this.certificate = readFileSync(join(dir, 'cert.pem'), 'utf8');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  get certificateBase64(): string {
    return this.certificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
  }

  metadata(options: { withCertificate?: boolean } = {}): string {
    const keyDescriptor = options.withCertificate === false
      ? ''
      : `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${this.certificateBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
    return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${this.entityId}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    ${keyDescriptor}
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.ssoUrl}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  }

  /** The AuthnRequest an SP-initiated redirect carries (HTTP-Redirect binding: deflated, base64). */
  static readRequest(location: string): { id: string; acs: string; issuer: string } {
    const encoded = new URL(location).searchParams.get('SAMLRequest');
    if (!encoded) throw new Error(`no SAMLRequest in ${location}`);
    const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
    const attribute = (name: string) => new RegExp(`${name}="([^"]+)"`).exec(xml)?.[1] ?? '';
    return { id: attribute('ID'), acs: attribute('AssertionConsumerServiceURL'), issuer: /<saml:Issuer[^>]*>([^<]+)</.exec(xml)?.[1] ?? '' };
  }

  /** A base64 SAML Response with a signed assertion; every field may be bent to build an attack. */
  response(options: {
    email: string;
    audience: string;
    recipient: string;
    inResponseTo: string;
    notBefore?: Date;
    notOnOrAfter?: Date;
    assertionId?: string;
    signWith?: string;
  }): string {
    const now = new Date();
    const notBefore = (options.notBefore ?? new Date(now.getTime() - 60_000)).toISOString();
    const notOnOrAfter = (options.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000)).toISOString();
    const issueInstant = (options.notBefore ?? now).toISOString();
    const assertionId = options.assertionId ?? `_${randomUUID()}`;
    const assertion = `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${assertionId}" Version="2.0" IssueInstant="${issueInstant}">`
      + `<saml:Issuer>${this.entityId}</saml:Issuer>`
      + `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${options.email}</saml:NameID>`
      + `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${options.inResponseTo}" NotOnOrAfter="${notOnOrAfter}" Recipient="${options.recipient}"/></saml:SubjectConfirmation></saml:Subject>`
      + `<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}"><saml:AudienceRestriction><saml:Audience>${options.audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>`
      + `<saml:AuthnStatement AuthnInstant="${issueInstant}" SessionIndex="${assertionId}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`
      + `<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>${options.email}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`
      + `</saml:Assertion>`;
    const response = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_${randomUUID()}" Version="2.0" IssueInstant="${issueInstant}" Destination="${options.recipient}" InResponseTo="${options.inResponseTo}">`
      + `<saml:Issuer>${this.entityId}</saml:Issuer>`
      + `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`
      + assertion
      + `</samlp:Response>`;
    const signer = new SignedXml({
      privateKey: options.signWith ?? this.privateKey,
      publicCert: this.certificate,
      signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    });
    signer.addReference({
      xpath: "//*[local-name(.)='Assertion']",
      digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
      transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    });
    signer.computeSignature(response, { location: { reference: "//*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' } });
    return Buffer.from(signer.getSignedXml()).toString('base64');
  }
}
