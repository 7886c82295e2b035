#!/usr/bin/env node
/**
 * The TransformerLens export test recomputes a model's logits with Debian's python3-torch (an
 * independent implementation of the same formulas). Install it with apt when it is missing and we
 * are root or have passwordless sudo (CI machines); otherwise say how. Debian's interpreter is
 * used by path, /usr/bin/python3, so that a pyenv or virtualenv python on PATH does not hide it.
 */
import { spawnSync } from 'node:child_process';
import { ensureWithApt } from './apt.mjs';

const PYTHON = process.env.GROKSCOPE_PYTHON ?? '/usr/bin/python3';
const hasTorch = () => spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;

ensureWithApt(hasTorch, ['python3-torch'], 'the TransformerLens export test', `no torch for ${PYTHON}: install Debian's python3-torch (or set GROKSCOPE_PYTHON to a python with torch and numpy); the TransformerLens export test needs it`);
process.stderr.write(`the TransformerLens export test uses ${PYTHON} with torch\n`);
