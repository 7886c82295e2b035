import type { BackendChoice } from '../schema/backend-choices.js';
import type { StudySpec } from '../schema/study-spec.js';
import type { Claims, Verdict } from './claims.js';

/**
 * A study's runs trained again on a second backend, and whether each verdict survives the move.
 * Backends round differently (BLAS kernels, GPU reductions) and Adam amplifies it; a verdict that
 * one backend's rounding can flip is not a finding (docs/science.md). The check is a study of its
 * own in the same library (resumable like any study), named after the study and the backend.
 */
export interface BackendCheck {
  /** The backend asked for, and the backends the study's own runs recorded. */
  backend: BackendChoice;
  studyBackends: string[];
  /** The check's own study name in the library. */
  study: string;
  verdicts: Record<keyof Claims, Verdict>;
  agree: Record<keyof Claims, boolean>;
  /** How many of the claims have the same verdict on both backends. */
  agreed: number;
}

export function checkSpecOf(spec: StudySpec, backend: BackendChoice): StudySpec {
  return { ...spec, name: `${spec.name}.check-${backend.replace(/[^A-Za-z0-9._-]/g, '_')}`, overrides: { ...spec.overrides, backend } };
}

export function compareVerdicts(main: Claims, other: Claims, backend: BackendChoice, study: string, studyBackends: string[]): BackendCheck {
  const keys = Object.keys(main) as (keyof Claims)[];
  const verdicts = Object.fromEntries(keys.map((k) => [k, other[k].verdict])) as BackendCheck['verdicts'];
  const agree = Object.fromEntries(keys.map((k) => [k, main[k].verdict === other[k].verdict])) as BackendCheck['agree'];
  return { backend, studyBackends, study, verdicts, agree, agreed: keys.filter((k) => agree[k]).length };
}
