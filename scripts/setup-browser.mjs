#!/usr/bin/env node
/**
 * Browser tests drive Debian's Chromium through playwright-core. Install it with apt when it is
 * missing and we are root (CI machines); otherwise say how. Prints the executable path found.
 * Never downloads browsers from anywhere else.
 */
import { existsSync } from 'node:fs';
import { ensureWithApt } from './apt.mjs';

const CANDIDATES = [process.env.GROKSCOPE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter(Boolean);
const found = () => CANDIDATES.find((p) => existsSync(p));

ensureWithApt(() => Boolean(found()), ['chromium'], 'the browser tests', "no Chromium found: install Debian's chromium package (or set GROKSCOPE_CHROMIUM); the browser tests need it");
const exe = found();
process.stderr.write(`browser tests use ${exe}\n`);
