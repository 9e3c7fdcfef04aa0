import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { map, Observable } from 'rxjs';
import { Endpoint, EndpointOptions } from '../common/http/endpoint.decorator';
import { renderDocument } from '../common/jsonapi/document';
import { TaskRow, taskLocation, taskResource } from './task.resource';

/** Renders the TaskRow a handler returns as the Task document and points Content-Location at it. */
@Injectable()
export class TaskAcceptedInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler<TaskRow>): Observable<unknown> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return next.handle().pipe(
      map((task) => {
        reply.header('content-location', taskLocation(task.id));
        return renderDocument(taskResource, task);
      }),
    );
  }
}

/**
 * For any endpoint that starts background work: 202 Accepted, the Task as
 * the body and `Content-Location: /api/v1/tasks/{id}`. The handler returns
 * the TaskRow from `TasksService.enqueue`.
 */
export function TaskAccepted(options: Omit<EndpointOptions, 'status'>) {
  return applyDecorators(Endpoint({ ...options, status: 202 }), UseInterceptors(TaskAcceptedInterceptor));
}
