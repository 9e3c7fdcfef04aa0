import type { FastifyReply } from 'fastify';
import { JsonApiDocument, renderDocument } from '../../common/jsonapi/document';
import { JSONAPI_MEDIA_TYPE } from '../../common/jsonapi/media-type';
import { TaskRow, taskLocation, taskResource } from '../../tasks/task.resource';

/**
 * For reads whose answer is either their data or, while the job that
 * produces it is pending, that job's task: 202 with the Task and
 * `Content-Location: /api/v1/tasks/{id}`, as TaskAccepted answers. The
 * status differs per request, so the handler writes the reply itself.
 */
export async function sendTaskAccepted(reply: FastifyReply, task: TaskRow): Promise<void> {
  const document = renderDocument(taskResource, task);
  await reply.status(202).header('content-location', taskLocation(task.id)).type(JSONAPI_MEDIA_TYPE).send(document);
}

export async function sendDocument(reply: FastifyReply, document: JsonApiDocument): Promise<void> {
  await reply.status(200).type(JSONAPI_MEDIA_TYPE).send(document);
}
