import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { JSONAPI_MEDIA_TYPE } from '../jsonapi/media-type';
import { httpStatusError } from './error-mapper';

/**
 * Node's HTTP parser refuses some requests before Fastify sees them: headers
 * or a query string over maxHeaderSize (431), a request not received within
 * requestTimeout (408), bytes that are not HTTP (400). Node then emits
 * 'clientError' on the server; this answers it with a JSON:API error document
 * on the raw socket and closes the connection (the parser's state is lost).
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({ errors: [httpStatusError(status)] });
  // A response already under way on this socket cannot take a second status line.
  if (socket.writable && !(socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${JSONAPI_MEDIA_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
