import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import { AuthenticatedUser } from '../auth/authenticated-user';

/** Adds tenant and user ids to the request's log lines once the token is verified. */
@Injectable()
export class RequestLogInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const http = context.switchToHttp();
      const request = http.getRequest<FastifyRequest & { user?: AuthenticatedUser }>();
      const reply = http.getResponse<FastifyReply>();
      if (request.user) {
        const child = request.log.child({ tenant_id: request.user.tenantId, user_id: request.user.userId });
        request.log = child;
        reply.log = child;
      }
    }
    return next.handle();
  }
}
