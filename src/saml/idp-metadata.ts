import { DOMParser } from '@xmldom/xmldom';
import { X509Certificate } from 'node:crypto';
import * as xpath from 'xpath';
import { ApiError } from '../common/errors/api-error';

/** What sign-in needs from an IdP's metadata, read once when the configuration is written. */
export interface IdpMetadata {
  entityId: string;
  /** The HTTP-Redirect SingleSignOnService: where an SP-initiated sign-in sends the browser. */
  ssoUrl: string;
  /** PEM certificates the IdP signs with. */
  certificates: string[];
}

const POINTER = { pointer: '/data/attributes/metadata_xml' };
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const select = xpath.useNamespaces({ md: 'urn:oasis:names:tc:SAML:2.0:metadata', ds: 'http://www.w3.org/2000/09/xmldsig#' });

function invalid(detail: string): ApiError {
  return ApiError.badRequest('invalid', detail, POINTER);
}

/**
 * Parses IdP metadata and checks what sign-in relies on: an entity id, an
 * HTTP-Redirect SingleSignOnService URL, and at least one signing
 * certificate that parses as X.509. Anything else is 400 at metadata_xml.
 */
export function parseIdpMetadata(xml: string): IdpMetadata {
  if (/<!DOCTYPE/i.test(xml)) throw invalid('The metadata XML must not contain a DOCTYPE.');
  const errors: string[] = [];
  const document = new DOMParser({
    errorHandler: (level: string, message: unknown) => {
      if (level !== 'warning') errors.push(String(message));
    },
  }).parseFromString(xml, 'text/xml');
  if (errors.length > 0 || !document?.documentElement) throw invalid(`The metadata XML is not well-formed: ${(errors[0] ?? 'no root element').split('\n')[0]}`);

  const descriptor = first(select('//md:EntityDescriptor[md:IDPSSODescriptor]', document as unknown as Node));
  if (!descriptor) throw invalid('The metadata XML has no EntityDescriptor with an IDPSSODescriptor.');
  const entityId = descriptor.getAttribute('entityID');
  if (!entityId) throw invalid('The IdP EntityDescriptor has no entityID.');
  const sso = first(select(`md:IDPSSODescriptor/md:SingleSignOnService[@Binding='${REDIRECT_BINDING}']`, descriptor));
  const ssoUrl = sso?.getAttribute('Location') ?? '';
  if (!/^https?:\/\//.test(ssoUrl)) throw invalid('The metadata XML has no HTTP-Redirect SingleSignOnService with an http(s) Location.');

  const certificateNodes = select(
    "md:IDPSSODescriptor/md:KeyDescriptor[not(@use) or @use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate",
    descriptor,
  ) as unknown as Node[];
  const certificates = certificateNodes.map((node) => toPem(node.textContent ?? '')).filter((pem): pem is string => pem !== null);
  if (certificates.length === 0) throw invalid('The metadata XML has no signing certificate (KeyDescriptor use="signing" with an X509Certificate).');
  return { entityId, ssoUrl, certificates };
}

function first(result: xpath.SelectReturnType): Element | undefined {
  return Array.isArray(result) && result.length > 0 ? (result[0] as Element) : undefined;
}

/** A base64 certificate from metadata as PEM, or null when it is not a certificate. */
function toPem(base64: string): string | null {
  const body = base64.replace(/\s+/g, '');
  if (!body) return null;
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  try {
    new X509Certificate(pem);
    return pem;
  } catch {
    throw invalid('A signing certificate in the metadata XML is not a valid X.509 certificate.');
  }
}
