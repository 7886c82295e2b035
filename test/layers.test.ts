import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The layers of docs/architecture.md, enforced: a module may import modules of its own floor and
 * of lower floors, never of a higher one. Imports are read by TypeScript's own pre-processor
 * (static, type-only, re-exports and dynamic `import()` alike), so a type import of a higher floor
 * counts too: it is still a dependency. Why a test and not dependency-cruiser: docs/decisions.md.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Floors from the bottom up; a path belongs to the first entry whose prefix it starts with. */
const FLOORS: { name: string; prefixes: string[] }[] = [
  { name: 'base', prefixes: ['core/rng.ts', 'core/versions.ts', 'core/errors.ts'] },
  { name: 'domain', prefixes: ['core/tasks/', 'core/models/', 'core/spectra/'] },
  { name: 'schema', prefixes: ['core/schema/'] },
  { name: 'interop', prefixes: ['core/interop/'] },
  { name: 'train', prefixes: ['core/train/'] },
  { name: 'analysis', prefixes: ['core/analysis/'] },
  { name: 'library', prefixes: ['core/library/'] },
  { name: 'runs', prefixes: ['core/runs/'] },
  { name: 'study', prefixes: ['core/study/'] },
  { name: 'queue', prefixes: ['core/queue/'] },
  { name: 'service', prefixes: ['core/api.ts', 'core/service/'] },
  { name: 'hosts', prefixes: ['main/', 'workers/', 'preload/', 'renderer/'] },
];

export function floorOf(file: string): number {
  const i = FLOORS.findIndex((f) => f.prefixes.some((p) => file === p || file.startsWith(p)));
  return i;
}

function sourceFiles(dir: string, pattern = /\.(ts|vue)$/): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (name === 'node_modules' || name === 'dist' || name === 'out' || name === 'artifacts') continue;
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...sourceFiles(rel, pattern));
    else if (pattern.test(name)) out.push(rel);
  }
  return out;
}

/** Relative imports of a file (the script blocks of a .vue file included), resolved to repository paths. */
export function importsOf(file: string, text = readFileSync(path.join(root, file), 'utf8')): { target: string; line: number }[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles
    .filter((f) => f.fileName.startsWith('.'))
    .map((f) => {
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), f.fileName)).replace(/\.js$/, '.ts');
      const target = /\.(ts|vue|css)$/.test(resolved) ? resolved : `${resolved}.ts`;
      return { target, line: ts.getLineAndCharacterOfPosition(ts.createSourceFile(file, text, ts.ScriptTarget.Latest), f.pos).line + 1 };
    });
}

const files = ['core', 'main', 'workers', 'preload', 'renderer/src'].flatMap((d) => sourceFiles(d));

/** The import graph's circles (strongly connected components of more than one file), by Tarjan's algorithm. */
export function importCircles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const circle: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        circle.push(w);
      } while (w !== v);
      if (circle.length > 1) circles.push(circle.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles;
}

/** The floors whose code is pure computation: no Node built-in, no tfjs (docs/architecture.md). */
const PURE = /^core\/(tasks|models|spectra|analysis|interop)\//;

/** The one core module `grokscope study` may use (besides the contract's types in core/api.ts). */
const STUDY_SERVICE = 'core/service/study-command.ts';

/** A file's imports of core other than the study service and core/api.ts, as "file:line imports target". */
function coreReachOf(file: string, text?: string): string[] {
  return importsOf(file, text)
    .filter((i) => i.target.startsWith('core/') && i.target !== STUDY_SERVICE && i.target !== 'core/api.ts')
    .map((i) => `${file}:${i.line} imports ${i.target}`);
}

describe('layers', () => {
  it('puts every source file on a floor', () => {
    expect(files.filter((f) => floorOf(f) < 0)).toEqual([]);
    expect(files.length).toBeGreaterThan(50);
  });

  it('never imports a higher floor', () => {
    const violations: string[] = [];
    for (const file of files) {
      const own = floorOf(file);
      for (const { target, line } of importsOf(file)) {
        const theirs = floorOf(target);
        if (theirs > own) violations.push(`${file}:${line} (${FLOORS[own].name}) imports ${target} (${FLOORS[theirs].name})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('lets the renderer see only the contract in core/api.ts', () => {
    const reach = files
      .filter((f) => f.startsWith('renderer/'))
      .flatMap((f) => importsOf(f).map((i) => ({ file: f, ...i })))
      .filter((i) => i.target.startsWith('core/') && i.target !== 'core/api.ts');
    expect(reach.map((r) => `${r.file}:${r.line} imports ${r.target}`)).toEqual([]);
  });

  it('has no circle of imports, inside a floor too (type-only imports count)', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f).map((i) => i.target)]));
    expect(importCircles(graph)).toEqual([]);
  });

  it('finds a circle of three files and leaves a chain alone (the check itself)', () => {
    const circle = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    expect(importCircles(circle)).toEqual([['a', 'b', 'c']]);
    expect(importCircles(new Map([['a', ['b']], ['b', ['c']], ['c', []]]))).toEqual([]);
  });

  it('keeps the pure floors (tasks, models, spectra, analysis, interop) free of Node built-ins and tfjs', () => {
    const bad = files
      .filter((f) => PURE.test(f))
      .flatMap((f) => ts.preProcessFile(readFileSync(path.join(root, f), 'utf8'), true, true).importedFiles.map((i) => ({ f, name: i.fileName })))
      .filter(({ name }) => name.startsWith('node:') || name.includes('tfjs') || ['fs', 'path', 'os', 'worker_threads', 'child_process'].includes(name));
    expect(bad.map(({ f, name }) => `${f} imports ${name}`)).toEqual([]);
  });

  it('lets `grokscope study` reach core through the study service alone', () => {
    // Why: a host that assembles core's study parts itself (pool, queue, spec files, slices)
    // drifts from the desktop service's path; the CLI keeps its display and exit codes only.
    expect(coreReachOf('main/cli/study.ts')).toEqual([]);
    expect(importsOf('main/cli/study.ts').some((i) => i.target === STUDY_SERVICE)).toBe(true);
  });

  it('catches a study command that reaches around the service (the check itself)', () => {
    const text = "import { runStudyCommand } from '../../core/service/study-command.js';\nimport type { RunDetail } from '../../core/api.js';\nimport { createTrainingPool } from '../../core/runs/pool.js';";
    expect(coreReachOf('main/cli/study.ts', text)).toEqual(['main/cli/study.ts:3 imports core/runs/pool.ts']);
  });

  it('catches an import of a higher floor (the check itself)', () => {
    const bad = importsOf('core/tasks/example.ts', "import { Library } from '../library/library.js';\nimport type { X } from '../service/service.js';");
    expect(bad.map((b) => [b.target, b.line])).toEqual([
      ['core/library/library.ts', 1],
      ['core/service/service.ts', 2],
    ]);
    expect(bad.every((b) => floorOf(b.target) > floorOf('core/tasks/example.ts'))).toBe(true);
  });
});

describe('file size', () => {
  it('keeps every file of core/train (the engines’ floor) under 400 lines, whatever it says', () => {
    expect(files.filter((f) => f.startsWith('core/train/') && readFileSync(path.join(root, f), 'utf8').split('\n').length > 401)).toEqual([]);
  });

  it('keeps source files under 300 lines, or says why at the top', () => {
    const long = files.filter((f) => {
      const text = readFileSync(path.join(root, f), 'utf8');
      return text.split('\n').length > 300 && !/Why this file is over 300 lines/.test(text.split('\n').slice(0, 20).join('\n'));
    });
    expect(long).toEqual([]);
  });
});

describe('self-contained', () => {
  it('refers to nothing beside the checkout', () => {
    // The project's reference folder sits next to a developer's checkout but not next to a user's clone.
    const outside = /\.\.\/shared\b|SCIENCE\.md/;
    const docs = readdirSync(path.join(root, 'docs')).map((n) => `docs/${n}`);
    const all = [...files, ...['test', 'scripts', 'bin'].flatMap((d) => sourceFiles(d, /\.(ts|mjs|js|py|md)$/)), ...docs, 'README.md', 'package.json'];
    expect(all.filter((f) => f !== 'test/layers.test.ts' && outside.test(readFileSync(path.join(root, f), 'utf8')))).toEqual([]);
  });
});
