import { RunGroup } from './run-group.js';
import type { GroupEngine, GroupMember } from './engine.js';
import { StackedGroup } from './tfjs/stacked-group.js';
import { WgslGroup } from './gpu/wgsl-group.js';

/**
 * Which engine computes a run group (docs/backends.md, "Run groups"):
 * - `webgpu`: the WGSL engine (gpu/wgsl-group.ts: our own kernels, a few dozen dispatches a step
 *   at any group size) unless WgslGroup.refusal names a reason; then the stacked tfjs engine;
 * - `tensorflow` (and webgpu groups the WGSL engine refuses): the stacked engine (stacked-group.ts),
 *   one tfjs computation for the group, unless StackedGroup.refusal names a reason (then member by member);
 * - everywhere else RunGroup, member by member (on `wasm+openblas` each member's step is the fused
 *   host step, which has no per-step overhead left to share).
 * GROKSCOPE_GROUP_ENGINE=wgsl, =stacked or =per-run overrides the choice (benchmarks, tests); wgsl
 * needs a WebGPU adapter whatever the tfjs backend.
 */
export async function createGroupEngine(members: GroupMember[], backendName: string): Promise<GroupEngine> {
  const forced = process.env.GROKSCOPE_GROUP_ENGINE;
  const wantWgsl = forced === 'wgsl' || (forced === undefined && backendName === 'webgpu');
  if (wantWgsl && WgslGroup.refusal(members) === null) return WgslGroup.create(members);
  const wantStacked = forced === 'stacked' || ((forced === undefined || forced === 'wgsl') && (backendName === 'webgpu' || backendName === 'tensorflow'));
  if (wantStacked && StackedGroup.refusal(members) === null) return new StackedGroup(members);
  return new RunGroup(members);
}
