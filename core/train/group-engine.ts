import { RunGroup, type GroupEngine, type GroupMember } from './run-group.js';
import { StackedGroup } from './stacked-group.js';

/**
 * Which engine computes a run group (docs/backends.md, "Run groups"):
 * - device backends (`webgpu`, `tensorflow`): the stacked engine (stacked-group.ts), one
 *   computation for the group, unless StackedGroup.refusal names a reason (then member by member);
 * - everywhere else RunGroup, member by member (on `wasm+openblas` each member's step is the fused
 *   host step, which has no per-step overhead left to share).
 * GROKSCOPE_GROUP_ENGINE=stacked or =per-run overrides the choice (benchmarks, tests).
 */
export function createGroupEngine(members: GroupMember[], backendName: string): GroupEngine {
  const forced = process.env.GROKSCOPE_GROUP_ENGINE;
  const wantStacked = forced === 'stacked' || (forced !== 'per-run' && (backendName === 'webgpu' || backendName === 'tensorflow'));
  if (wantStacked && StackedGroup.refusal(members) === null) return new StackedGroup(members);
  return new RunGroup(members);
}
