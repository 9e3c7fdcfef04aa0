/**
 * IdP metadata as an identity provider publishes it (entity id, HTTP-Redirect
 * sign-on URL, a self-signed signing certificate for idp.example.com), so the
 * documented example of a SAML configuration passes parseIdpMetadata.
 */
export const IDP_METADATA_EXAMPLE = [
  '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com/saml/metadata">',
  '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">',
  '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>',
  'MIIDFTCCAf2gAwIBAgIUAuNTMFcMf14lWSZWDw/E/seOTp0wDQYJKoZIhvcNAQELBQAwGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMB4XDTI2MTIwMjEzNTQ1OFoXDTM2MTEyOTEzNTQ1OFowGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyoFsxxVvzqtjvWp+NPZX/4iIg8+VqQBZLxVG6HjYHM/CunMqREr4vSSxUm5m/IsUTdyKNRaG7NlVmuC8oLFRvtv94beG/ppqtJKdfZfN3NfAN3agnBv8/yVQfia7zaGulVahTV+EggCGMppyZfyEFX383Wd+SGVDI5gBQY/ew1aPuHnLrz7SsDaBpi8lDYesKyN5Qp6HGokxSCeMvJ7VKCSYHlzEAbpBxaPmZc1B64xmGJuLF55VAAmyqcdjdaWfnDmB0hONq3KZlOzOjtDcYoMtwtvpNivmv4ChLPoc7K40fTCokm42sPtXlhtGk8SF/oFSKN323UsE0x6ypr/pFwIDAQABo1MwUTAdBgNVHQ4EFgQUzxOV7bkhmBpT3RKCd/UvXJ9xCBAwHwYDVR0jBBgwFoAUzxOV7bkhmBpT3RKCd/UvXJ9xCBAwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAXthOjReP669TD3BfTnWiIpjQqDARDFXP6qO0UMu5ZCc8vlLBiPmbvkxo2QtLLGLPUlyZGinc72hMj4BQj10ph82lePaGd0kHK8VvpbSUUyFlzXXxpunK3wQYq9I0iEv6ekipLrvduSWqMIDP+RHclShmqbSu3nn6vUgq94u0dpqDUo4cq9/WgGidnLpLIwBrHZAF0HqBSRlUUCNJDMqK0Ewvq0MzGpL+OriKuOtXHSVUg65QptelQL8Wf9NtAXIE+ewcy59iRtNQj5g1F5ZW1orZTL+ULIljWzPW0vgixGTWawhCnTzEWOmxmrFHG/kf4nG7xuKZPY3P9J/jTpcgZQ==',
  '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>',
  '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/saml/sso"/>',
  '</md:IDPSSODescriptor>',
  '</md:EntityDescriptor>',
].join('');
