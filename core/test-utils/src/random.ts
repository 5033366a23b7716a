/**
 * The seeded generator tests and benches draw their data from (the SDK's `seededRandom`,
 * mulberry32), so every run draws the same data and a failing seed can be replayed.
 * No kernel imports: pure tests load it as `@orrery/backend-test-utils/random`.
 */
export { seededRandom as rng } from '@orrery/plugin-sdk';
