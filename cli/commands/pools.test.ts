import type { GpuPool } from '../../operator/src/api/types.js';
import { POOL_COLUMNS, poolRow } from './pools.js';

const pool = (leases: GpuPool['spec']['leases'], lent?: number): GpuPool =>
  ({
    metadata: { name: 't4' },
    spec: { nodeSelector: {}, pricing: { token: `0x${'1'.repeat(40)}`, treasury: `0x${'2'.repeat(40)}`, floorPrice: '400000', ceilingPrice: '8000000' }, ...(leases ? { leases } : {}) },
    status: { allocatable: 8, free: 6, ...(lent !== undefined ? { lent } : {}) },
  }) as unknown as GpuPool;
const lentCell = (p: GpuPool): string => POOL_COLUMNS.find((c) => c.header === 'lent')!.cell(poolRow(p, undefined, [], 0, undefined));

test('the wide LENT column: what a lending pool lends, and its cap; a dash where the pool does not lend', () => {
  expect(lentCell(pool({ lendIdleGpus: true }, 3))).toBe('3');
  expect(lentCell(pool({ lendIdleGpus: true }))).toBe('0');
  expect(lentCell(pool({ lendIdleGpus: true, maxLent: '50%' }, 4))).toBe('4 (max 50%)');
  expect(lentCell(pool(undefined))).toBe('-');
  // lending turned off while leases are still lent: they show until they end
  expect(lentCell(pool({ lendIdleGpus: false }, 2))).toBe('2');
});
