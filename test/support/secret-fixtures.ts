/** Credential documents as their issuers write them, for tests of what a secret may hold. */

/** A service account key as Google issues it (the key itself shortened). */
export const GCP_KEY = {
  type: 'service_account',
  project_id: 'scan-project-123',
  private_key_id: '0123456789abcdef0123456789abcdef01234567',
  private_key: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n',
  client_email: 'prowler@scan-project-123.iam.gserviceaccount.com',
  client_id: '123456789012345678901',
  auth_uri: 'https://accounts.google.com/o/oauth2/auth',
  token_uri: 'https://oauth2.googleapis.com/token',
  auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
  client_x509_cert_url: 'https://www.googleapis.com/robot/v1/metadata/x509/prowler%40scan-project-123.iam.gserviceaccount.com',
  universe_domain: 'googleapis.com',
};

/** A kubeconfig with inline credentials only, as a scan may use it. */
export const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - name: prod
    cluster:
      server: https://k8s.example.com:6443
      certificate-authority-data: LS0tLS1CRUdJTg==
contexts:
  - name: prod
    context: { cluster: prod, user: scanner, namespace: default }
current-context: prod
users:
  - name: scanner
    user:
      token: eyJhbGciOiJSUzI1NiJ9.e30.c2ln
`;
