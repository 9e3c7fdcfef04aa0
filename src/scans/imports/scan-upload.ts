import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../common/errors/api-error';
import { isUuid } from '../../database/uuid';
import { ScanSpool } from '../spool/scan-spool';

/** What an import form carried, its file already in the spool. */
export interface ReceivedUpload {
  providerId: string;
  name: string | null;
  bytes: number;
}

const FIELDS = new Set(['provider_id', 'name']);
/** Room for the multipart framing and the small fields around the file. */
const FORM_OVERHEAD_BYTES = 64 * 1024;

export function uploadTooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'payload_too_large', `The file is larger than this deployment accepts (${maxBytes} bytes, SCAN_IMPORT_MAX_BYTES).`, {
    pointer: '/file',
  });
}

/**
 * Reads a `multipart/form-data` import form (`provider_id`, optional `name`,
 * and one `file`) as it arrives, streaming the file into the spool under
 * `uploadId`; never more than `maxBytes` of it. The fields may come before or
 * after the file; a `provider_id` that comes first is handed to
 * `checkProvider` before the file is read, so a form naming a provider the
 * caller cannot use fails without storing anything. Throws ApiError for any
 * form that is not one of these.
 */
export async function receiveUpload(
  request: FastifyRequest,
  spool: ScanSpool,
  uploadId: string,
  maxBytes: number,
  checkProvider: (providerId: string) => Promise<void>,
): Promise<ReceivedUpload> {
  const { fields, bytes } = await receiveFileForm(request, spool, uploadId, maxBytes, {
    fields: FIELDS,
    description: 'the fields provider_id and file',
    beforeFile: async (read) => {
      const providerId = read.get('provider_id');
      if (providerId !== undefined) await checkProvider(validProviderId(providerId));
    },
  });
  const providerId = fields.get('provider_id');
  if (providerId === undefined) throw ApiError.badRequest('required', 'The form field provider_id is required.', { parameter: 'provider_id' });
  const name = fields.get('name') ?? null;
  if (name !== null && (name.length < 3 || name.length > 100)) {
    throw ApiError.badRequest('invalid', 'name must be 3 to 100 characters long.', { parameter: 'name' });
  }
  return { providerId: validProviderId(providerId), name, bytes };
}

/** The shape of a form that carries one OCSF file in the part `file`. */
export interface FileFormShape {
  /** The plain fields it may carry besides the file. */
  fields: ReadonlySet<string>;
  /** For messages: what the form consists of. */
  description: string;
  /** Runs with the fields read so far, before the file is read; a throw stores nothing. */
  beforeFile?: (fields: ReadonlyMap<string, string>) => Promise<void>;
}

/**
 * Reads a multipart form of that shape as it arrives, streaming its `file`
 * into the spool under `uploadId`, never more than `maxBytes` of it. Throws
 * ApiError for a form of another shape, or without a file.
 */
export async function receiveFileForm(
  request: FastifyRequest,
  spool: ScanSpool,
  uploadId: string,
  maxBytes: number,
  shape: FileFormShape,
): Promise<{ fields: Map<string, string>; bytes: number }> {
  if (!request.isMultipart()) {
    throw new ApiError(415, 'unsupported_media_type', `Send the file as multipart/form-data with ${shape.description}.`);
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + FORM_OVERHEAD_BYTES) throw uploadTooLarge(maxBytes);

  const fields = new Map<string, string>();
  let bytes: number | undefined;
  try {
    const limits = { fileSize: maxBytes, files: 1, fields: shape.fields.size, fieldSize: 1024, parts: shape.fields.size + 1 };
    for await (const part of request.parts({ limits })) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          part.file.resume();
          throw ApiError.badRequest('invalid', `Unknown form field '${part.fieldname}'; the file goes in 'file'.`, { parameter: part.fieldname });
        }
        try {
          await shape.beforeFile?.(fields);
        } catch (error) {
          part.file.resume();
          throw error;
        }
        bytes = await spool.receive(uploadId, part.file);
        if (part.file.truncated) throw uploadTooLarge(maxBytes);
      } else {
        if (!shape.fields.has(part.fieldname)) throw ApiError.badRequest('invalid', `Unknown form field '${part.fieldname}'.`, { parameter: part.fieldname });
        fields.set(part.fieldname, String(part.value));
      }
    }
  } catch (error) {
    throw asUploadError(error, maxBytes, shape.description);
  }
  if (bytes === undefined) throw ApiError.badRequest('required', 'The form field file (a Prowler JSON-OCSF file) is required.', { parameter: 'file' });
  return { fields, bytes };
}

function validProviderId(value: string): string {
  if (!isUuid(value)) throw ApiError.badRequest('invalid', 'provider_id must be a UUID.', { parameter: 'provider_id' });
  return value.toLowerCase();
}

/**
 * Errors of the form itself become 4xx: the multipart parser's limits (413),
 * a malformed or cut-off body (400). A failure of our own disk is left as it
 * is, an error of the server.
 */
function asUploadError(error: unknown, maxBytes: number, description: string): unknown {
  if (error instanceof ApiError) return error;
  const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
  if (code === 'FST_REQ_FILE_TOO_LARGE') return uploadTooLarge(maxBytes);
  if (statusCode === 413) return new ApiError(413, 'payload_too_large', `The form has more parts or fields than it takes (${description}).`);
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && code !== 'ECONNRESET') return error;
  return ApiError.badRequest('invalid', 'The multipart body is malformed or was cut off.');
}
