import { anything, integer, listOf, mapOf, objectOf, oneOf, text } from '../../common/jsonapi/attribute-schema';
import { DATE_FILTER, FilterSpec, QuerySpec } from '../../common/jsonapi/query-spec';
import { ResourceDefinition } from '../../common/jsonapi/resource-definition';
import { PROVIDER_FILTER_SPECS } from '../query/provider-scope';
import { RequirementStatus } from './compliance-framework';
import type { TechniqueDetails } from './frameworks/framework-definition';

export interface ComplianceOverviewRow {
  compliance_id: string;
  framework: string;
  version: string;
  requirements_passed: number;
  requirements_failed: number;
  requirements_manual: number;
  total_requirements: number;
}

export interface ComplianceMetadataRow {
  regions: string[];
}

export interface RequirementDetailRow {
  id: string;
  framework: string;
  version: string;
  /** The requirement's text from its framework definition; empty when the figures come from finding mappings. */
  description: string;
  status: RequirementStatus;
}

/** A requirement of a loaded framework, as `/compliance-overviews/attributes` lists it. */
export interface ComplianceAttributesRow {
  id: string;
  compliance_name: string;
  framework_description: string;
  name: string;
  framework: string;
  version: string;
  description: string;
  /** technique_details only for MITRE ATT&CK frameworks, as Prowler answers. */
  attributes: { metadata: Record<string, unknown>[]; check_ids: string[]; technique_details?: TechniqueDetails };
}

export const complianceOverviewResource: ResourceDefinition<ComplianceOverviewRow> = {
  schema: {
    framework: text,
    version: text,
    requirements_passed: integer,
    requirements_failed: integer,
    requirements_manual: integer,
    total_requirements: integer,
  },
  type: 'compliance-overviews',
  id: (r) => r.compliance_id,
  attributes: (r) => ({
    framework: r.framework,
    version: r.version,
    requirements_passed: r.requirements_passed,
    requirements_failed: r.requirements_failed,
    requirements_manual: r.requirements_manual,
    total_requirements: r.total_requirements,
  }),
};

export const requirementDetailResource: ResourceDefinition<RequirementDetailRow> = {
  schema: { framework: text, version: text, description: text, status: oneOf(['FAIL', 'PASS', 'MANUAL']) },
  type: 'compliance-requirements-details',
  id: (r) => r.id,
  attributes: (r) => ({ framework: r.framework, version: r.version, description: r.description, status: r.status }),
};

export const complianceAttributesResource: ResourceDefinition<ComplianceAttributesRow> = {
  schema: {
    compliance_name: text,
    framework_description: text,
    name: text,
    framework: text,
    version: text,
    description: text,
    /** The framework definition's attribute objects, as loaded (their members vary by framework). */
    attributes: {
      ...objectOf({
        metadata: listOf(mapOf(anything)),
        check_ids: listOf(text),
        technique_details: objectOf({ tactics: listOf(text), subtechniques: listOf(text), platforms: listOf(text), technique_url: text }),
      }),
      required: ['metadata', 'check_ids'],
    },
  },
  type: 'compliance-requirements-attributes',
  id: (r) => r.id,
  attributes: (r) => ({
    compliance_name: r.compliance_name,
    framework_description: r.framework_description,
    name: r.name,
    framework: r.framework,
    version: r.version,
    description: r.description,
    attributes: r.attributes,
  }),
};

/** What the figures of a scan cover, for filter pickers; one document, no list. */
export const complianceMetadataResource: ResourceDefinition<ComplianceMetadataRow> = {
  schema: { regions: listOf(text) },
  type: 'compliance-overviews-metadata',
  id: () => 'compliance-overviews-metadata',
  attributes: (m) => ({ regions: m.regions }),
};

const TEXT: FilterSpec = { type: 'string', operators: ['eq', 'icontains'] };
const FRAMEWORK: FilterSpec = { type: 'string', operators: ['eq', 'icontains', 'iexact'] };

/** The contract's filters: the scan, or the latest completed scan of each provider a provider filter selects. */
const COMPLIANCE_FILTERS: Record<string, FilterSpec> = {
  ...PROVIDER_FILTER_SPECS,
  scan_id: { type: 'uuid', operators: ['eq'] },
  compliance_id: TEXT,
  framework: FRAMEWORK,
  version: TEXT,
  region: { type: 'string', operators: ['eq', 'in', 'icontains'] },
  /** Keeps the scans whose figures were made that day (a scan's figures carry its start here). */
  inserted_at: DATE_FILTER,
  search: { type: 'string', operators: ['eq'] },
};

export const COMPLIANCE_OVERVIEW_LIST: QuerySpec = {
  filters: COMPLIANCE_FILTERS,
  sorts: ['compliance_id'],
  defaultSort: 'compliance_id',
  fields: {
    'compliance-overviews': ['id', 'framework', 'version', 'requirements_passed', 'requirements_failed', 'requirements_manual', 'total_requirements'],
  },
};

/** A framework's requirements are a bounded catalogue: one page holds them all unless the caller asks for less. */
export const REQUIREMENTS_PAGE_SIZE = 1000;

export const COMPLIANCE_REQUIREMENT_LIST: QuerySpec = {
  filters: COMPLIANCE_FILTERS,
  // Accepted as the contract lists it; every row of one answer shares its compliance id.
  sorts: ['compliance_id'],
  fields: { 'compliance-requirements-details': ['id', 'framework', 'version', 'description', 'status'] },
  pageSizeDefault: REQUIREMENTS_PAGE_SIZE,
  pageSizeMax: REQUIREMENTS_PAGE_SIZE,
};

/** The scan, or the latest completed scan of each provider a provider filter selects. */
export const COMPLIANCE_METADATA: QuerySpec = {
  filters: COMPLIANCE_FILTERS,
  // Accepted as the contract lists it: the answer is one object.
  sorts: ['compliance_id'],
  fields: { 'compliance-overviews-metadata': ['regions'] },
};

/** One framework's requirements (all of them: a bounded catalogue), for the provider type of filter[scan_id] when given. */
export const COMPLIANCE_ATTRIBUTES: QuerySpec = {
  filters: {
    compliance_id: { type: 'string', operators: ['eq'] },
    scan_id: { type: 'uuid', operators: ['eq'] },
  },
  fields: { 'compliance-requirements-attributes': ['id', 'compliance_name', 'framework_description', 'name', 'framework', 'version', 'description', 'attributes'] },
  pageSizeDefault: REQUIREMENTS_PAGE_SIZE,
  pageSizeMax: REQUIREMENTS_PAGE_SIZE,
};
