import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { CONDITIONS, PRESETS, RunConfigSchema, describeZodError, type RunConfig } from '../schema/run-config.js';
import { ARCHS, PROBES, type Arch as ArchName, type ProbeName } from '../models/config.js';
import { TASK_NAMES, isPrime, isS5Task, type TaskName } from '../tasks/groups.js';
import { Library, type RunImportOutcome } from './library.js';
import type { ExternalFacts } from './interchange.js';
import { ImportError } from './zip.js';
import { GrokscopeError, firstLine } from '../errors.js';

/**
 * Runs from other tools: a CSV or Parquet file with a step column and metric columns becomes a
 * read-only `external` run that the library, analysis and compare views treat like any other.
 *
 * Accepted layouts (what TensorBoard and W&B download):
 * - TensorBoard scalar CSV: `Wall time, Step, Value`: one metric, named by `--metric` or by the
 *   `-tag-NAME` part of the file name TensorBoard gives it;
 * - W&B CSV: `Step, RUN - metric, RUN - metric__MIN, RUN - metric__MAX …`: the `RUN - ` prefix is
 *   dropped and the __MIN/__MAX band columns are ignored;
 * - any table with a step column (step, _step, global_step, iteration, iter, epoch) and numeric
 *   metric columns.
 * Known names map onto ours (METRIC_ALIASES); other numeric columns are kept in
 * `external_metrics` so nothing is lost. Rows with the same step are merged (first non-null value
 * of each column).
 */
const STEP_NAMES = ['step', '_step', 'global_step', 'steps', 'iteration', 'iter', 'epoch'];
const IGNORED = /^(wall[ _]?time|_?timestamp|_runtime|time)$/i;

export const METRIC_ALIASES: Record<string, string[]> = {
  train_acc: ['train_acc', 'train_accuracy', 'acc_train', 'accuracy/train', 'train/acc', 'train/accuracy', 'train acc'],
  test_acc: ['test_acc', 'test_accuracy', 'val_acc', 'val_accuracy', 'acc_test', 'accuracy/test', 'test/acc', 'test/accuracy', 'val/acc', 'test acc'],
  train_loss: ['train_loss', 'loss', 'loss/train', 'train/loss', 'train loss'],
  test_loss: ['test_loss', 'val_loss', 'loss/test', 'test/loss', 'val/loss', 'test loss'],
  weight_norm: ['weight_norm', 'param_norm', 'parameter_norm', 'norm/weights', 'weights/norm'],
  fourier_topk_share: ['fourier_topk_share'],
  fourier_gini: ['fourier_gini'],
};
const ENTROPY_NAMES = ['entropy', 'spectral_entropy', 'normalized_entropy', 'h_tilde'];
const NUMERIC = /^(DOUBLE|FLOAT|REAL|DECIMAL.*|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;
export const MAX_EXTERNAL_BYTES = 2 ** 30;

export type Condition = (typeof CONDITIONS)[number];

/**
 * What an import is told about a run besides its file. Everything given lands in the stored
 * RunConfig (and the run's note says which fields were given and which are placeholders from the
 * `reference` preset), so that study analysis can group, pair and budget external runs like ours:
 * task × arch × condition groups, seeds for leave-one-seed-out, p for the chance level, steps as
 * the budget a run that did not grok was watched for.
 */
export interface ExternalOptions {
  /** Name of the one value column of a single-metric file (default: the `-tag-NAME` of a TensorBoard CSV's file name). Refused for a file with several metric columns. */
  metric?: string;
  task?: TaskName;
  arch?: ArchName;
  /** Probe the entropy columns without a probe name belong to; when given, the file must have an entropy column for it. */
  probe?: ProbeName;
  /** Modulus of a Z/pZ task (a prime, as for our runs); refused for S5 tasks. */
  p?: number;
  condition?: Condition;
  seed?: number;
  /** Training budget (default: the file's last step). Refused below the file's last step. */
  steps?: number;
  trainFraction?: number;
  /**
   * Fields the file must have values for, besides the always-required step and accuracy (train_acc
   * or test_acc): names of ours (REQUIRABLE), `entropy` for any probe or `entropy.<probe>`.
   */
  require?: string[];
}

/** Settings a config-table column (or the CLI flag of the same name, `_` written `-`) gives. */
export const EXTERNAL_SETTINGS = ['task', 'p', 'arch', 'condition', 'seed', 'probe', 'steps', 'train_fraction', 'metric'] as const;
export type ExternalSetting = (typeof EXTERNAL_SETTINGS)[number] | 'require';
/** Settings as typed: CLI flag values or config-table cells. Empty strings count as not given. */
export type RawExternalSettings = Partial<Record<ExternalSetting, string>>;
/** What `require` may name. */
export const REQUIRABLE: readonly string[] = [...Object.keys(METRIC_ALIASES), 'entropy', ...PROBES.map((p) => `entropy.${p}`)];

/** A bad setting or config table: one line, naming the flag or column. */
export class ExternalSettingsError extends GrokscopeError {}

/** How a setting is named in messages: the CLI passes `--flag`, a config table its column. */
export type SettingName = (key: ExternalSetting) => string;
const asOption: SettingName = (k) => (k === 'train_fraction' ? 'trainFraction' : k);

/** The first problem with a set of options, or null. Checks what RunConfigSchema would, so the stored config stays valid. */
export function externalOptionsProblem(o: ExternalOptions, name: SettingName = asOption): string | null {
  const one = (k: ExternalSetting, v: unknown, choices: readonly string[]): string | null =>
    v !== undefined && !choices.includes(v as string) ? `${name(k)} must be one of ${choices.join(', ')} (got '${String(v)}')` : null;
  const whole = (k: ExternalSetting, v: number | undefined, min: number): string | null =>
    v !== undefined && !(Number.isInteger(v) && v >= min) ? `${name(k)} must be a whole number ≥ ${min} (got ${v})` : null;
  const task = o.task ?? 'mod-add';
  const problem =
    one('task', o.task, TASK_NAMES) ??
    one('arch', o.arch, ARCHS) ??
    one('probe', o.probe, PROBES) ??
    one('condition', o.condition, CONDITIONS) ??
    whole('p', o.p, 2) ??
    whole('seed', o.seed, 0) ??
    whole('steps', o.steps, 1);
  if (problem) return problem;
  if (o.p !== undefined && isS5Task(task)) return `${name('p')} is the modulus of the Z/pZ tasks; ${task} has none (leave ${name('p')} out)`;
  if (o.p !== undefined && !isPrime(o.p)) return `${name('p')} must be a prime for ${task}, as for our runs (got ${o.p})`;
  if (o.trainFraction !== undefined && !(o.trainFraction > 0 && o.trainFraction < 1)) return `${name('train_fraction')} must be between 0 and 1, both excluded (got ${o.trainFraction})`;
  if (o.arch === 'mlp' && o.probe === 'attn.out') return `the mlp has no 'attn.out' probe (${name('probe')})`;
  if (o.metric !== undefined && o.metric.trim() === '') return `${name('metric')} is empty`;
  for (const r of o.require ?? []) if (!REQUIRABLE.includes(r)) return `${name('require')}: '${r}' is none of ours (${[...Object.keys(METRIC_ALIASES), 'entropy', 'entropy.<probe>'].join(', ')})`;
  return null;
}

/**
 * Settings as typed (CLI flags or config-table cells) into ExternalOptions, checked; throws an
 * ExternalSettingsError naming the flag or column. Empty or absent strings are not given.
 */
export function parseExternalSettings(raw: RawExternalSettings, name: SettingName = (k) => k): ExternalOptions {
  const given = (k: ExternalSetting): string | undefined => {
    const v = raw[k]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const whole = (k: ExternalSetting): number | undefined => {
    const v = given(k);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new ExternalSettingsError(`${name(k)} must be a whole number (got '${v}')`);
    return Number(v);
  };
  const fraction = given('train_fraction');
  if (fraction !== undefined && (!/^[0-9.eE+-]+$/.test(fraction) || !Number.isFinite(Number(fraction)))) {
    throw new ExternalSettingsError(`${name('train_fraction')} must be a number between 0 and 1 (got '${fraction}')`);
  }
  const require = given('require')
    ?.split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const o: ExternalOptions = {
    metric: given('metric'),
    task: given('task') as TaskName | undefined,
    arch: given('arch') as ArchName | undefined,
    probe: given('probe') as ProbeName | undefined,
    condition: given('condition') as Condition | undefined,
    p: whole('p'),
    seed: whole('seed'),
    steps: whole('steps'),
    trainFraction: fraction === undefined ? undefined : Number(fraction),
    require: require?.length ? require : undefined,
  };
  for (const k of Object.keys(o) as (keyof ExternalOptions)[]) if (o[k] === undefined) delete o[k];
  const problem = externalOptionsProblem(o, name);
  if (problem) throw new ExternalSettingsError(problem);
  return o;
}

function metricName(column: string): string {
  const parts = column.split(' - ');
  return parts[parts.length - 1].trim();
}

/** Our field for an external column name, or null. `entropy.<probe>`-style names keep their probe. */
export function mapColumn(name: string, defaultProbe: string): { table: 'metrics'; field: string } | { table: 'probe'; probe: string } | null {
  const n = name.toLowerCase();
  for (const [field, aliases] of Object.entries(METRIC_ALIASES)) if (aliases.includes(n)) return { table: 'metrics', field };
  if (ENTROPY_NAMES.includes(n)) return { table: 'probe', probe: defaultProbe };
  const m = /^(?:entropy|h_tilde|spectral_entropy)[./:]([a-z.]+)$/.exec(n);
  if (m && (PROBES as readonly string[]).includes(m[1])) return { table: 'probe', probe: m[1] };
  return null;
}

const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;
const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export async function importExternal(lib: Library, file: string, opts: ExternalOptions = {}): Promise<RunImportOutcome> {
  const bad = externalOptionsProblem(opts);
  if (bad) throw new ImportError(file, bad);
  if (!existsSync(file)) throw new ImportError(file, 'no such file');
  const bytes = statSync(file).size;
  if (bytes > MAX_EXTERNAL_BYTES) throw new ImportError(file, `file is ${bytes} bytes, over the ${MAX_EXTERNAL_BYTES}-byte limit`);
  const ext = path.extname(file).toLowerCase();
  const reader = ext === '.parquet' ? `read_parquet(${lit(file)})` : ext === '.csv' || ext === '.tsv' ? `read_csv(${lit(file)}, header = true)` : null;
  if (!reader) throw new ImportError(file, 'external runs are read from .csv, .tsv or .parquet files');
  let columns: [string, string][];
  try {
    columns = await lib.describeQuery(`SELECT * FROM ${reader}`);
  } catch (err) {
    throw new ImportError(file, `cannot read it as ${ext.slice(1).toUpperCase()}: ${firstLine(err)}`);
  }
  const stepCol = columns.find(([c]) => STEP_NAMES.includes(c.toLowerCase()));
  if (!stepCol) throw new ImportError(file, `no step column (looked for ${STEP_NAMES.join(', ')}); its columns are ${columns.map(([c]) => c).join(', ')}`);
  const probe = opts.probe ?? 'resid.final';
  const metricCols = columns.filter(([c, t]) => c !== stepCol[0] && !IGNORED.test(c) && !/__(min|max)$/i.test(c) && NUMERIC.test(t));
  if (metricCols.length === 0) throw new ImportError(file, 'no numeric metric columns besides the step');
  if (opts.metric !== undefined && metricCols.length > 1) {
    throw new ImportError(file, `metric name '${opts.metric}' was given, but it names the one value column of a single-metric file and this one has ${metricCols.length} (${metricCols.map(([c]) => c).join(', ')})`);
  }
  const tbTag = /-tag-(.+)\.csv$/i.exec(path.basename(file))?.[1];
  const named = metricCols.map(([c]) => {
    const name = metricCols.length === 1 && (opts.metric !== undefined || c === 'Value') ? (opts.metric ?? tbTag ?? path.basename(file, ext)) : metricName(c);
    return { column: c, name, target: mapColumn(name, probe) };
  });
  const keyOf = (n: (typeof named)[number]): string | null => (n.target ? (n.target.table === 'metrics' ? n.target.field : `entropy.${n.target.probe}`) : null);
  const taken = new Set<string>();
  for (const n of named) {
    const key = keyOf(n) ?? `x:${n.name}`;
    if (taken.has(key)) throw new ImportError(file, `two columns map to the same metric '${key.replace(/^x:/, '')}' (rename one)`);
    taken.add(key);
  }
  const mapping = named.map((n) => `${n.column} → ${keyOf(n) ?? `extra '${n.name}'`}`).join(', ');

  // What the file must yield: an accuracy always (else there is nothing of ours to analyse), the
  // given probe's entropy, and whatever `require` names. Each is a set of columns at least one of
  // which must be there now and hold a value once read.
  const needs: { what: string; columns: number[] }[] = [];
  const need = (what: string, match: (key: string) => boolean, missing: string): void => {
    const cols = named.flatMap((n, i) => (keyOf(n) !== null && match(keyOf(n)!) ? [i] : []));
    if (cols.length === 0) throw new ImportError(file, `${missing}; its columns map to: ${mapping}`);
    needs.push({ what, columns: cols });
  };
  need('accuracy', (k) => k === 'train_acc' || k === 'test_acc', 'no accuracy column (train_acc or test_acc, or a name such as val_acc, accuracy/train): nothing of ours to analyse');
  if (opts.probe !== undefined) need(`entropy.${opts.probe}`, (k) => k === `entropy.${opts.probe}`, `probe '${opts.probe}' was given but no entropy column maps to it`);
  for (const r of opts.require ?? []) need(r, (k) => (r === 'entropy' ? k.startsWith('entropy.') : k === r), `required ${r} is missing`);

  const task = opts.task ?? 'mod-add';
  const arch = opts.arch ?? 'transformer';
  const condition = opts.condition ?? 'baseline';
  const baseId = `ext-${path.basename(file, ext).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60)}`;
  const settle = (facts: ExternalFacts): { config: RunConfig; note: string } => {
    for (const n of needs) {
      if (n.columns.every((i) => facts.values[i] === 0)) throw new Error(`its ${n.what} column${n.columns.length > 1 ? 's' : ''} (${n.columns.map((i) => named[i].column).join(', ')}) ${n.columns.length > 1 ? 'hold' : 'holds'} no values`);
    }
    if (opts.steps !== undefined && opts.steps < facts.lastStep) throw new Error(`steps ${opts.steps} is below its last step ${facts.lastStep}: the budget is the steps the run trained for`);
    const steps = opts.steps ?? facts.lastStep;
    if (steps < 1) throw new Error('its only step is 0: give the training budget (steps)');
    const config: RunConfig = {
      ...PRESETS.reference,
      preset: 'external',
      task,
      arch,
      probe: arch === 'mlp' && probe === 'attn.out' ? 'resid.final' : probe,
      p: opts.p ?? (isS5Task(task) ? PRESETS.s5.p : PRESETS.reference.p),
      seed: opts.seed ?? PRESETS.reference.seed,
      condition,
      steps,
      trainFraction: opts.trainFraction ?? PRESETS.reference.trainFraction,
      // The matched conditions name the mix run they replay; an external run's is not known.
      ...(condition === 'norm-matched' || condition === 'logit-matched' ? { normTargetRun: 'unknown' } : {}),
    };
    const parsed = RunConfigSchema.safeParse(config);
    if (!parsed.success) throw new Error(`its config would not be valid: ${describeZodError(parsed.error)}`);
    const fields: [string, unknown, unknown][] = [
      ['task', opts.task, task],
      ['arch', opts.arch, arch],
      ['probe', opts.probe, config.probe],
      ...(isS5Task(task) ? [] : [['p', opts.p, config.p] as [string, unknown, unknown]]),
      ['seed', opts.seed, config.seed],
      ['condition', opts.condition, condition],
      ['train fraction', opts.trainFraction, config.trainFraction],
    ];
    const given = fields.filter(([, g]) => g !== undefined).map(([f, , v]) => `${f} ${String(v)}`);
    const placeholders = fields.filter(([, g]) => g === undefined).map(([f]) => f);
    if (opts.steps !== undefined) given.push(`steps ${steps}`);
    const note = [
      `external run from ${path.basename(file)}`,
      `given at import: ${given.length ? given.join(', ') : 'nothing'}`,
      opts.steps === undefined ? `steps ${steps}: the file's last step (no budget given)` : null,
      `placeholders from the reference preset: ${[...placeholders, ...(config.normTargetRun ? ['normTargetRun'] : []), 'model size, optimiser and evaluation settings'].join(', ')}`,
      isS5Task(task) ? `p not used (${task})` : null,
      `columns: ${mapping}`,
    ]
      .filter(Boolean)
      .join('; ');
    return { config: parsed.data, note };
  };
  try {
    return await lib.importExternalRows({ baseId, reader, stepColumn: stepCol[0], columns: named, settle });
  } catch (err) {
    throw new ImportError(file, firstLine(err));
  }
}

export { q as quoteIdent };
