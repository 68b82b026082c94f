import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

// Each chaos run owns both cores for a while: running two at once would slow both and blur what each one shows.
export default mergeConfig(sharedTestConfig, defineConfig({ test: { fileParallelism: false } }));
