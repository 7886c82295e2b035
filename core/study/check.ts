import type { BackendChoice } from '../schema/backend-choices.js';
import type { StudySpec } from '../schema/study-spec.js';
import type { BackendCheck, Claims } from './summary.js';
export type { BackendCheck } from './summary.js';

export function checkSpecOf(spec: StudySpec, backend: BackendChoice): StudySpec {
  return { ...spec, name: `${spec.name}.check-${backend.replace(/[^A-Za-z0-9._-]/g, '_')}`, overrides: { ...spec.overrides, backend } };
}

export function compareVerdicts(main: Claims, other: Claims, backend: BackendChoice, study: string, studyBackends: string[]): BackendCheck {
  const keys = Object.keys(main) as (keyof Claims)[];
  const verdicts = Object.fromEntries(keys.map((k) => [k, other[k].verdict])) as BackendCheck['verdicts'];
  const agree = Object.fromEntries(keys.map((k) => [k, main[k].verdict === other[k].verdict])) as BackendCheck['agree'];
  return { backend, studyBackends, study, verdicts, agree, agreed: keys.filter((k) => agree[k]).length };
}
