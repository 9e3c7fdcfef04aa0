/**
 * The V8 flags an API process is started with: package.json's `start` and
 * `start:prod`, the Dockerfile, docker-compose.yml, and the launcher tests
 * and benchmarks use (a unit test keeps them equal).
 *
 * A young generation of up to 64 MB per semi-space. Under load dozens of
 * requests are in flight, and every scavenge copies all their live objects
 * (rows, documents, response strings); V8's default of 16 MB scavenges that
 * same live set four times as often. In `bench:findings` this took about a
 * fifth off the API's CPU time per findings page (README, Performance). The
 * cost is memory: up to 192 MB of young generation instead of 48 MB.
 */
export const API_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
