import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { AppModule } from '../../src/app.module';
import { ApiKeyCreateAttributes } from '../../src/api-keys/api-key.dto';
import { checkPasswordPolicy } from '../../src/auth/password';
import { SignUpAttributes, UpdateUserAttributes } from '../../src/auth/user.dto';
import { ENDPOINT_OPTIONS, EndpointOptions } from '../../src/common/http/endpoint.decorator';
import { API_PREFIX, UNPREFIXED_ROUTES } from '../../src/common/http/route-prefix';
import { exampleOf } from '../../src/common/jsonapi/example';
import { JSONAPI_MEDIA_TYPE } from '../../src/common/jsonapi/media-type';
import { readResourceBody, ResourceBodyOptions } from '../../src/common/jsonapi/resource-body.decorator';
import { parseResourceBody } from '../../src/common/jsonapi/request-body';
import { CreateIntegrationAttributes, UpdateIntegrationAttributes } from '../../src/integrations/integration.dto';
import { validateSettings } from '../../src/integrations/integration-types';
import { PLACEHOLDER_ID } from '../../src/openapi/body-example';
import { classSchema } from '../../src/openapi/body-schema';
import { openApiPath } from '../../src/openapi/openapi-document';
import { discoverRoutes } from '../../src/openapi/route-discovery';
import { ProcessorCreateAttributes, ProcessorUpdateAttributes } from '../../src/processors/processor.dto';
import { readMutelistConfiguration } from '../../src/processors/mutelist/mutelist-document';
import { CreateProviderAttributes, UpdateProviderAttributes } from '../../src/providers/provider.dto';
import { CreateProviderSecretAttributes, UpdateProviderSecretAttributes } from '../../src/providers/provider-secret.dto';
import { ProviderType, validateProviderUid } from '../../src/providers/provider-uid-rules';
import { validateSecret } from '../../src/providers/secret-schemas';
import { compileForDatasets } from '../../src/rls-rules/clause/compile-for-datasets';
import { RlsRuleAttributes } from '../../src/rls-rules/rls-rule.dto';
import { SamlConfigurationCreateAttributes, SamlConfigurationUpdateAttributes } from '../../src/saml/saml-configuration.dto';
import { parseIdpMetadata } from '../../src/saml/idp-metadata';
import { openApiDocument, schemaProblems } from '../support/openapi-check';

type Attributes = Record<string, any>;
type ResourceBody = ResourceBodyOptions<any>;

interface BodyCase {
  name: string;
  mode: 'create' | 'update' | 'replace';
  body: ResourceBody;
  schema: { properties: { data: { properties: { attributes?: { properties: Record<string, { examples?: unknown[] }> } } } } };
  example: { data: { attributes?: Attributes } };
}

/** The provider type the provider examples describe: secrets and uid changes are checked against it. */
const EXAMPLE_PROVIDER = exampleOf(CreateProviderAttributes, 'provider').value as ProviderType;

/**
 * Checks a body passes after class-validator, in the services that own them:
 * an example must get through those too.
 */
const SERVICE_CHECKS = new Map<Function, (attributes: Attributes) => unknown>([
  [CreateProviderAttributes, (a) => validateProviderUid(a.provider, a.uid)],
  [UpdateProviderAttributes, (a) => validateProviderUid(EXAMPLE_PROVIDER, a.uid)],
  [CreateProviderSecretAttributes, (a) => validateSecret(EXAMPLE_PROVIDER, a.secret_type, a.secret)],
  [UpdateProviderSecretAttributes, (a) => validateSecret(EXAMPLE_PROVIDER, a.secret_type, a.secret)],
  [SignUpAttributes, (a) => checkPasswordPolicy(a.password, a.email)],
  [UpdateUserAttributes, (a) => checkPasswordPolicy(a.password, a.email)],
  [CreateIntegrationAttributes, (a) => validateSettings(a.integration_type, a.configuration, a.credentials, false)],
  [UpdateIntegrationAttributes, (a) => validateSettings(a.integration_type, a.configuration, a.credentials, false)],
  [ProcessorCreateAttributes, (a) => readMutelistConfiguration(a.configuration)],
  [ProcessorUpdateAttributes, (a) => readMutelistConfiguration(a.configuration)],
  [RlsRuleAttributes, (a) => compileForDatasets(a.clause, ['findings', 'resources'])],
  [SamlConfigurationCreateAttributes, (a) => parseIdpMetadata(a.metadata_xml)],
  [SamlConfigurationUpdateAttributes, (a) => parseIdpMetadata(a.metadata_xml)],
  [ApiKeyCreateAttributes, (a) => assert.ok(Date.parse(a.expires_at) > Date.now(), 'expires_at is in the past')],
]);

/** Every operation with a JSON:API resource body, with the body options its handler parses with (found as the generator finds them). */
function bodyCases(): BodyCase[] {
  const document = openApiDocument();
  const cases: BodyCase[] = [];
  for (const route of discoverRoutes(AppModule)) {
    // The handler's @ResourceBody, or (for the few bodies it cannot parse) the @Endpoint body option.
    const endpoint = Reflect.getMetadata(ENDPOINT_OPTIONS, route.handler) as EndpointOptions | undefined;
    const declared = route.args.find((a) => a.kind === readResourceBody)?.data as ResourceBody | undefined;
    const body = declared ?? (endpoint?.body && 'resource' in endpoint.body ? endpoint.body.resource : undefined);
    if (!body) continue;
    const method = route.method.toLowerCase();
    const path = openApiPath(route.path, { prefix: API_PREFIX, unprefixed: UNPREFIXED_ROUTES });
    const content = (document.paths[path][method].requestBody as { content: Record<string, { schema: any; example: any }> }).content[JSONAPI_MEDIA_TYPE];
    cases.push({
      name: `${route.method} ${path} (${body.attributes.name})`,
      mode: method === 'patch' ? 'update' : method === 'put' ? 'replace' : 'create',
      body,
      schema: content.schema,
      example: content.example,
    });
  }
  return cases;
}

describe('Request body examples of the OpenAPI document', () => {
  const cases = bodyCases();

  it('cover every operation whose request body is a JSON:API resource document', () => {
    const withResourceBody = Object.values(openApiDocument().paths)
      .flatMap((methods) => Object.values(methods))
      .filter((operation) => (operation.requestBody as any)?.content?.[JSONAPI_MEDIA_TYPE]?.schema?.properties?.data?.properties?.attributes);
    assert.equal(cases.length, withResourceBody.length);
    assert.ok(cases.length >= 30, `only ${cases.length} bodies found`);
  });

  it('give every required attribute an example, in the attribute schema and in the body example', () => {
    const missing: string[] = [];
    for (const body of cases) {
      const properties = body.schema.properties.data.properties.attributes?.properties ?? {};
      for (const name of classSchema(body.body.attributes).required) {
        const examples = properties[name]?.examples;
        if (!examples || examples.length !== 1 || !(name in (body.example.data.attributes ?? {}))) missing.push(`${body.name}: ${name}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('are accepted by the validation their endpoint runs: the body parser, its class-validator rules and the service checks', async () => {
    const refused: string[] = [];
    for (const body of cases) {
      const attributes = body.example.data.attributes ?? {};
      try {
        await parseResourceBody(body.example, { ...body.body, acceptsTenantId: true, ...(body.mode === 'create' ? {} : { id: PLACEHOLDER_ID }) });
        // Every example attribute, not only those a PATCH sends: each must be valid on its own.
        const errors = await validate(plainToInstance(body.body.attributes, attributes) as object, { whitelist: true, forbidNonWhitelisted: true });
        assert.deepEqual(errors.map((error) => Object.values(error.constraints ?? {})).flat(), []);
        await SERVICE_CHECKS.get(body.body.attributes)?.(attributes);
      } catch (error) {
        refused.push(`${body.name}: ${error instanceof Error ? error.message : String(error)} ${JSON.stringify((error as { errors?: unknown }).errors ?? '')}`);
      }
    }
    assert.deepEqual(refused, []);
  });

  it('match the request body schema the document declares for them', () => {
    const problems = cases.flatMap((body) => schemaProblems(body.schema, body.example).map((problem) => `${body.name}: ${problem}`));
    assert.deepEqual(problems, []);
  });

  it('are refused by that schema once a required attribute is taken out, so the last check can fail', () => {
    const body = cases.find((each) => each.mode === 'create' && each.body.type === 'providers')!;
    const { uid: _uid, ...attributes } = body.example.data.attributes!;
    const problems = schemaProblems(body.schema, { data: { ...body.example.data, attributes } });
    assert.ok(problems.some((problem) => problem.includes("'uid'")), problems.join('\n'));
  });

  it('hold the provider example the issue asks for: an AWS account with its 12-digit id and an alias', () => {
    const body = cases.find((each) => each.mode === 'create' && each.body.type === 'providers')!;
    assert.deepEqual(body.example, { data: { type: 'providers', attributes: { provider: 'aws', uid: '123456789012', alias: 'production' } } });
    const secret = cases.find((each) => each.mode === 'create' && each.body.type === 'provider-secrets')!;
    assert.deepEqual((secret.example.data as any).relationships, { provider: { data: { type: 'providers', id: PLACEHOLDER_ID } } });
  });
});
