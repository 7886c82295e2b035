import { describe, expect, it } from 'vitest';
import { GrokscopeError, firstLine } from '../core/errors.js';
import { ConfigError } from '../core/schema/run-config.js';
import { StudySpecError } from '../core/schema/study-spec.js';
import { ImportError } from '../core/library/zip.js';
import { LibraryError } from '../core/library/library.js';
import { ApiError } from '../core/service/service.js';
import { StudyError } from '../core/study/runner.js';
import { UserError } from '../main/cli/errors.js';

describe('errors', () => {
  it('shows a user the first line of anything thrown', () => {
    expect(firstLine(new Error('cannot open x\n    at foo (bar.js:1:1)'))).toBe('cannot open x');
    expect(firstLine('  plain string  \nsecond')).toBe('plain string');
    expect(firstLine(42)).toBe('42');
    expect(firstLine(new Error(''))).toBe('unknown error');
    expect(firstLine(undefined)).toBe('undefined');
  });

  it('has one base for every error class of ours, each named after itself', () => {
    const made = [new ConfigError('a'), new StudySpecError('b'), new ImportError('/tmp/f.grokrun', 'c'), new LibraryError('d'), new ApiError('e'), new StudyError('f'), new UserError('g')];
    for (const e of made) expect(e).toBeInstanceOf(GrokscopeError);
    expect(made.map((e) => e.name)).toEqual(['ConfigError', 'StudySpecError', 'ImportError', 'LibraryError', 'ApiError', 'StudyError', 'UserError']);
    expect(made[2].message).toBe('f.grokrun: c');
  });
});
