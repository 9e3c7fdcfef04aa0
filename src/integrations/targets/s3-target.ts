import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { IntegrationsConfig } from '../../config/app-config';
import { requestSignal } from '../integration-errors';
import { AwsCredentials, S3Configuration } from '../integration-types';
import { awsClientSettings, awsError } from './aws-target';

/** The object Prowler writes and removes to prove it may write to the bucket. */
export const CONNECTION_TEST_KEY = 'test-prowler-connection.txt';

/** An S3 bucket an integration writes to, with its own client. */
export class S3Target {
  private readonly client: S3Client;

  constructor(
    private readonly configuration: S3Configuration,
    credentials: AwsCredentials,
    private readonly config: IntegrationsConfig,
  ) {
    this.client = new S3Client({
      ...awsClientSettings(credentials, config, 'us-east-1', config.s3EndpointUrl),
      // The bucket may live in any region: the SDK follows S3's redirect to it.
      followRegionRedirects: true,
      // A custom endpoint is an S3-compatible store or a VPC endpoint, which address buckets by path.
      forcePathStyle: config.s3EndpointUrl !== '',
    });
  }

  async put(key: string, body: Uint8Array, contentType: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.configuration.bucket_name, Key: key, Body: body, ContentType: contentType }),
        { abortSignal: requestSignal(signal, this.config.requestTimeoutMs) },
      );
    } catch (error) {
      throw awsError('Amazon S3', error, signal);
    }
  }

  /** As Prowler checks: write a small object, then remove it. */
  async check(signal: AbortSignal): Promise<void> {
    await this.put(CONNECTION_TEST_KEY, new TextEncoder().encode('Test Prowler Connection'), 'text/plain', signal);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.configuration.bucket_name, Key: CONNECTION_TEST_KEY }), {
        abortSignal: requestSignal(signal, this.config.requestTimeoutMs),
      });
    } catch (error) {
      throw awsError('Amazon S3', error, signal);
    }
  }

  close(): void {
    this.client.destroy();
  }
}
