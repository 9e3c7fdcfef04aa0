import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiProcess, startApiProcess } from '../support/api-process';
import { SignedUpUser, signUp } from '../support/http-client';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP/1.1 exchange, so the test decides when each byte of the request is sent. */
class RawExchange {
  private readonly socket: Socket;
  private received = '';
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (chunk) => (this.received += chunk.toString()));
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  send(text: string): void {
    this.socket.write(text);
  }

  async answer(): Promise<Answer> {
    await Promise.race([this.closed, sleep(5000)]);
    const [head, body = ''] = this.received.split('\r\n\r\n');
    const [statusLine, ...lines] = head.split('\r\n');
    const headers = Object.fromEntries(lines.map((line) => [line.split(':')[0].toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    return { status: Number(statusLine.split(' ')[1]), headers, body };
  }
}

/**
 * SIGTERM to the real API process (dist/src/main.js) while 16 keep-alive
 * connections keep it busy: it stops accepting, answers what still arrives on
 * open connections with a JSON:API 503, lets requests already under way
 * finish, and exits well before its idle connections would time out.
 */
describe('API shutdown under load', () => {
  let api: ApiProcess;
  let user: SignedUpUser;

  before(async () => {
    // A keep-alive timeout far beyond the test's bound: exiting in time must not depend on it.
    api = await startApiProcess({ KEEP_ALIVE_TIMEOUT_MS: '72000', SHUTDOWN_GRACE_MS: '10000' });
    user = await signUp(api.baseUrl, 'shutdown');
  });
  after(async () => api.stop());

  it('exits within 5 s of SIGTERM under 16 connections, finishing in-flight requests and answering late ones with a JSON:API 503', async () => {
    const port = Number(new URL(api.baseUrl).port);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const statuses = new Map<number, number>();
    const bad503: string[] = [];
    let exited = false;
    const exit = new Promise<{ code: number | null; at: number }>((resolve) =>
      api.child.once('exit', (code) => {
        exited = true;
        resolve({ code, at: Date.now() });
      }),
    );

    const once = () =>
      new Promise<void>((resolve) => {
        const req = request({ agent, port, host: '127.0.0.1', path: '/api/v1/users/me', headers: { authorization: `Bearer ${user.access}` } }, (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => {
            statuses.set(res.statusCode!, (statuses.get(res.statusCode!) ?? 0) + 1);
            if (res.statusCode === 503 && (res.headers['content-type'] !== 'application/vnd.api+json' || JSON.parse(body).errors?.[0]?.code !== 'shutting_down')) {
              bad503.push(body);
            }
            resolve();
          });
        });
        // Refused or reset connections are expected once the server stops accepting.
        req.on('error', () => setTimeout(resolve, 20));
        req.end();
      });
    const loops = Array.from({ length: 16 }, async () => {
      while (!exited) await once();
    });

    // A request under way at SIGTERM (its body half sent), and one whose headers are not complete yet.
    const patchBody = JSON.stringify({ data: { type: 'users', id: user.userId, attributes: { name: 'renamed during shutdown' } } });
    const inFlight = new RawExchange(port);
    inFlight.send(
      `PATCH /api/v1/users/${user.userId} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${user.access}\r\n` +
        `Content-Type: application/vnd.api+json\r\nContent-Length: ${Buffer.byteLength(patchBody)}\r\n\r\n${patchBody.slice(0, 20)}`,
    );
    const late = new RawExchange(port);
    late.send(`GET /api/v1/users/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${user.access}\r\n`);

    // Under load from other test files the first answers can take a while: SIGTERM once every connection has had some.
    for (let waited = 0; (statuses.get(200) ?? 0) < 32 && waited < 30000; waited += 100) await sleep(100);
    assert.ok((statuses.get(200) ?? 0) >= 32, 'the load was served before SIGTERM');
    const signalledAt = Date.now();
    api.child.kill('SIGTERM');
    await sleep(300);
    late.send('\r\n');
    inFlight.send(patchBody.slice(20));

    const [finished, refused] = [await inFlight.answer(), await late.answer()];
    assert.equal(finished.status, 200, `the in-flight request finished: ${finished.body}`);
    assert.equal(JSON.parse(finished.body).data.attributes.name, 'renamed during shutdown');
    assert.equal(refused.status, 503, refused.body);
    assert.equal(refused.headers['content-type'], 'application/vnd.api+json');
    assert.equal(refused.headers.connection, 'close');
    assert.deepEqual(JSON.parse(refused.body).errors[0].code, 'shutting_down');

    const { code, at } = await exit;
    await Promise.all(loops);
    agent.destroy();
    assert.ok(at - signalledAt < 5000, `exited ${at - signalledAt} ms after SIGTERM`);
    assert.equal(code, 0, 'a clean exit');
    assert.deepEqual([...statuses.keys()].filter((status) => status !== 200 && status !== 503), [], `statuses: ${JSON.stringify([...statuses])}`);
    assert.deepEqual(bad503, [], 'every 503 is a JSON:API document with a code');
  });
});
