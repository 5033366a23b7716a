export { createKernel, REPO_ROOT, type Kernel, type KernelOptions } from './kernel.ts';
export type { KernelServices, KernelModule, Bus, KeyValueStore, Analytics, Storage } from './types.ts';
export type { Internals } from './internals.ts';
