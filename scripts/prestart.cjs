#!/usr/bin/env node
// Runs before `npm start` and `.ci/run`, before anything is compiled, so it is plain JavaScript.
// 1. Refuses a Node.js older than package.json's engines field, saying which is needed.
// 2. With --build: compiles (tsc) only when a source is newer than the last build, so an
//    already-built checkout starts in seconds, then writes openapi.json (the OpenAPI document
//    generated from the compiled code) when it is missing or older than the build.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const wanted = require(join(root, 'package.json')).engines.node; // ">=20.19"
const minimum = /^>=\s*(\d+)\.(\d+)/.exec(wanted);
const [major, minor] = process.versions.node.split('.').map(Number);
if (!minimum || major < Number(minimum[1]) || (major === Number(minimum[1]) && minor < Number(minimum[2]))) {
  process.stderr.write(`Node.js ${wanted.replace('>=', '')} or newer is needed (package.json engines: "${wanted}"); this is ${process.version}.\n`);
  process.exit(1);
}

if (process.argv.includes('--build')) {
  // A stamp of this script's own, not tsc's build info: `tsc --noEmit` rewrites the build info
  // without emitting, which would make a stale dist look current.
  const stamp = join(root, 'dist', '.build-stamp');
  const builtAt = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const newest = (path) => {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return readdirSync(path).reduce((latest, entry) => Math.max(latest, newest(join(path, entry))), stat.mtimeMs);
  };
  const sources = ['src', 'scripts', 'migrations', 'test', 'tsconfig.json', 'package-lock.json'].map((p) => join(root, p)).filter(existsSync);
  if (sources.some((path) => newest(path) > builtAt)) {
    process.stdout.write('build: compiling (sources changed since the last build)\n');
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
  }
  const openApi = join(root, 'openapi.json');
  if (!existsSync(openApi) || statSync(openApi).mtimeMs < statSync(stamp).mtimeMs) {
    execFileSync(process.execPath, [join(root, 'dist', 'scripts', 'write-openapi.js')], { stdio: 'inherit' });
  }
}
