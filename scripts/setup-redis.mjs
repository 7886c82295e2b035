#!/usr/bin/env node
/**
 * The queue tests (test/queue.test.ts) start their own Redis on a free loopback port. Install
 * Debian's redis-server with apt when it is missing and we are root or have passwordless sudo (CI
 * machines); otherwise say how. Only the binary is used: the tests never touch a system Redis.
 */
import { spawnSync } from 'node:child_process';
import { ensureWithApt } from './apt.mjs';

const REDIS = process.env.GROKSCOPE_REDIS_SERVER ?? 'redis-server';
const hasRedis = () => spawnSync(REDIS, ['--version'], { stdio: 'ignore' }).status === 0;

ensureWithApt(hasRedis, ['redis-server'], 'the queue tests', `no ${REDIS}: install Debian's redis-server (or set GROKSCOPE_REDIS_SERVER to a redis-server binary); the queue tests need it`);
process.stderr.write(`the queue tests use ${spawnSync(REDIS, ['--version'], { encoding: 'utf8' }).stdout.trim()}\n`);
