import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { API_NODE_FLAGS } from '../../src/config/api-node-flags';

const ROOT = resolve(__dirname, '..', '..', '..');
const read = (file: string) => readFileSync(resolve(ROOT, file), 'utf8');

/** Every way an API process is started passes the same V8 flags, in front of its script. */
describe('API process flags', () => {
  it('package.json starts the API with them', () => {
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    assert.equal(scripts['start:prod'], `node ${API_NODE_FLAGS.join(' ')} dist/src/main.js`);
    assert.equal(scripts.start, `node ${API_NODE_FLAGS.join(' ')} dist/scripts/start-local.js`);
  });

  it('the Dockerfile and docker-compose.yml start the API with them', () => {
    const command = JSON.stringify(['node', ...API_NODE_FLAGS, 'dist/src/main.js']).replace(/,/g, ', ');
    assert.ok(read('Dockerfile').includes(`CMD ${command}`), `Dockerfile CMD should be ${command}`);
    assert.ok(read('docker-compose.yml').includes(`command: ${command}`), `the api service's command should be ${command}`);
  });

  it('Node accepts them (an unknown flag stops it before any script runs)', () => {
    const run = spawnSync(process.execPath, [...API_NODE_FLAGS, '-e', 'process.exit(7)'], { encoding: 'utf8' });
    assert.equal(run.status, 7, run.stderr);
  });
});
