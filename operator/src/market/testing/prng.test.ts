// The shared sfc32 core: pinned outputs, so a change that would silently re-draw every seeded
// property test and every simulation shows up here.
import { stream } from '../../../../simulator/random.js';
import { prng, sfc32 } from './prng.js';

test('sfc32 seeded through splitmix32 gives the pinned words', () => {
  const u = sfc32(1);
  expect([u(), u(), u(), u()]).toEqual([587941090, 3698788925, 2524488572, 3535790054]);
});

test('the property tests and the simulator draw from the same core', () => {
  const p = prng(1);
  const u = sfc32(1);
  for (let i = 0; i < 100; i++) expect(p.next()).toBe(u() / 4294967296);
  // the simulator's named stream: the value drawn before the shared core existed
  expect(stream(1, 'value').next()).toBe(0.4991400516591966);
});
