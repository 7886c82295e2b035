import { RunGroup, type GroupEngine, type GroupMember } from './run-group.js';

/**
 * Which engine computes a run group (docs/backends.md, "Run groups"): on device backends the
 * stacked engine once it exists here; everywhere else RunGroup, member by member (on
 * `wasm+openblas` each member's step is the fused host step).
 */
export function createGroupEngine(members: GroupMember[], backendName: string): GroupEngine {
  void backendName;
  return new RunGroup(members);
}
