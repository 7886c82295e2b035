#!/usr/bin/env node
/**
 * The queue tests (test/queue.test.ts) start their own Redis on a free loopback port. Install
 * Debian's redis-server with apt when it is missing and we are root or have passwordless sudo (CI
 * machines); otherwise say how. Only the binary is used: the tests never touch a system Redis.
 */
import { spawnSync } from 'node:child_process';
import { aptGet, aptInstall } from './apt.mjs';

const REDIS = process.env.GROKSCOPE_REDIS_SERVER ?? 'redis-server';
const hasRedis = () => spawnSync(REDIS, ['--version'], { stdio: 'ignore' }).status === 0;

if (!hasRedis()) {
  const apt = aptGet();
  if (apt) {
    process.stderr.write('installing Debian redis-server for the queue tests (once)…\n');
    aptInstall(apt, ['redis-server']);
  }
}
if (!hasRedis()) {
  process.stderr.write(`no ${REDIS}: install Debian's redis-server (or set GROKSCOPE_REDIS_SERVER to a redis-server binary); the queue tests need it\n`);
  process.exit(1);
}
process.stderr.write(`the queue tests use ${spawnSync(REDIS, ['--version'], { encoding: 'utf8' }).stdout.trim()}\n`);
