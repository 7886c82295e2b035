/** Backend names a user can ask for (kept apart from backend.ts so hosts need not load tfjs). */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'webgpu', 'wasm+openblas', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
