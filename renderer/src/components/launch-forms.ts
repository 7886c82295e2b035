import { fieldErrors } from '../field-errors';

/**
 * What the launch forms share: reading a seed list for the count they show (core reads it again
 * and decides), turning a field's text into what goes to core, and placing core's study-spec
 * objections at the fields they name — the spec's own fields, its overrides, or a detection
 * control's settings. No science: core validates and plans.
 */

/** "0-4", "0,3,7" or both mixed, each seed once (the grammar of `grokscope run --seeds`); null when it is neither. */
export function parseSeeds(text: string): number[] | null {
  const out: number[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) return null;
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (b < a || b - a > 10_000) return null;
    for (let x = a; x <= b; x++) out.push(x);
  }
  return out.length ? [...new Set(out)] : null;
}

/** A numeric field's value for core: the number, or the text itself where it is none (so that core's objection names the field rather than a null). */
export function numberOrText(text: string): number | string {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** A run setting the study form offers, as an override of the spec (and of a detection control). */
export interface SettingField {
  key: string;
  label: string;
  /** Form control name (unique on the page: the run form has its own fields of the same keys). */
  name: string;
  kind: 'number' | 'backend' | 'probe' | 'mixForm';
  title?: string;
}

/** The spec's `overrides` the study form offers (RunConfig fields over the preset). */
export const OVERRIDE_FIELDS: SettingField[] = [
  { key: 'steps', label: 'steps', name: 'studySteps', kind: 'number' },
  { key: 'evalEvery', label: 'evaluate every', name: 'studyEvalEvery', kind: 'number' },
  { key: 'lr', label: 'learning rate', name: 'studyLr', kind: 'number' },
  { key: 'weightDecay', label: 'weight decay', name: 'studyWeightDecay', kind: 'number' },
  { key: 'p', label: 'p', name: 'studyP', kind: 'number' },
  { key: 'trainFraction', label: 'train fraction', name: 'studyTrainFraction', kind: 'number' },
  { key: 'dModel', label: 'width d_model', name: 'studyDModel', kind: 'number' },
  { key: 'nHeads', label: 'heads', name: 'studyNHeads', kind: 'number' },
  { key: 'dMlp', label: 'MLP width', name: 'studyDMlp', kind: 'number' },
  { key: 'initScale', label: 'init scale', name: 'studyInitScale', kind: 'number', title: 'every initial weight multiplied by this (1: none)' },
  { key: 'temperature', label: 'temperature', name: 'studyTemperature', kind: 'number', title: 'a fixed output temperature (1: none; not with logit-matched)' },
  { key: 'mixStrength', label: 'mix strength', name: 'studyMixStrength', kind: 'number', title: 'α of the orthogonal mix or λ of the entropy penalty' },
  { key: 'mixForm', label: 'mix form', name: 'studyMixForm', kind: 'mixForm' },
  { key: 'backend', label: 'backend', name: 'studyBackend', kind: 'backend' },
  { key: 'probe', label: 'probe (T_cross)', name: 'studyProbe', kind: 'probe' },
];

/** The settings a detection control changes (spec.controls[].overrides): those that make a setting not grok. */
export const CONTROL_FIELDS = ['weightDecay', 'lr', 'trainFraction', 'steps'] as const;

/** Study-form fields that are the spec's own (not overrides). */
export const SPEC_FIELDS = ['name', 'preset', 'tasks', 'archs', 'conditions', 'seeds', 'earlyStopEvals', 'groupSize', 'controls'] as const;

/**
 * Core's objection to a study spec, each part at its field. Two shapes arrive: the spec's schema
 * ("invalid study spec: seeds: …; controls.0.name: …") and a run of the plan ("study NAME: run
 * mod-add/transformer/baseline@wd0/s0: weightDecay: …"). A control's run names its control (after
 * "@"): its problem belongs to that control's field where the control sets it, else to the
 * override. Keys: a spec field, an override field, or `controls.I.FIELD`.
 */
export function studyFieldErrors(message: string, controls: { name: string; overrides: Record<string, string> }[]): { byField: Record<string, string>; rest: string | null } {
  const fields = [...SPEC_FIELDS, ...OVERRIDE_FIELDS.map((f) => f.key)];
  const run = /^study [^:]+: run ([^:]+): (.*)$/.exec(message);
  if (run) {
    const { byField, rest } = fieldErrors(run[2], fields);
    const control = /@([^/]+)\//.exec(run[1])?.[1];
    const i = control === undefined ? -1 : controls.findIndex((c) => c.name === control);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(byField)) out[i >= 0 && (controls[i].overrides[k] ?? '').trim() !== '' ? `controls.${i}.${k}` : k] = v;
    return { byField: out, rest: rest === null ? null : `run ${run[1]}: ${rest}` };
  }
  const body = message.replace(/^[A-Za-z]+: invalid arguments: /, '').replace(/^invalid study spec[^:]*: /, '');
  const byField: Record<string, string> = {};
  const rest: string[] = [];
  for (const part of body.split('; ')) {
    const m = /^([A-Za-z0-9_.]+): (.*)$/.exec(part);
    const path = m?.[1].split('.') ?? [];
    let key: string | null = null;
    if (path[0] === 'controls' && /^\d+$/.test(path[1] ?? '') && path[2]) key = `controls.${path[1]}.${path[2] === 'overrides' ? (path[3] ?? 'overrides') : path[2]}`;
    else if (path[0] === 'overrides' && path[1]) key = path[1];
    else if (path[0] && fields.includes(path[0])) key = path[0];
    if (m && key) byField[key] = byField[key] ? `${byField[key]}; ${m[2]}` : m[2];
    else rest.push(part);
  }
  return { byField, rest: rest.length ? rest.join('; ') : null };
}
