// JSON forms of the engine's data: bigints as decimal strings, everything else as plain numbers.
// Decoding validates, so a corrupted status or log entry is refused rather than priced.
import type { PoolEvent } from './events.js';
import { validateParams, type PoolParams } from './params.js';
import type { PoolState } from './pool.js';

export type PoolStateJson = { k: string; at: number; allocatable: number; free: number };
export type PoolParamsJson = {
  floor: string;
  ceiling: string;
  initialPrice: string;
  depth: number;
  targetUtilizationPpm: number;
  responseTimeSeconds: number;
  feeBps: number;
};
export type PoolEventJson = Record<string, string | number>;

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function big(v: unknown, what: string): bigint {
  if (typeof v !== 'string' || !DECIMAL.test(v)) throw new TypeError(`${what} must be a decimal integer string`);
  return BigInt(v);
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new TypeError(`${what} must be a non-negative safe integer`);
  }
  return v;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${what} must be an object`);
  return v as Record<string, unknown>;
}

export function encodeState(s: PoolState): PoolStateJson {
  return { k: s.k.toString(), at: s.at, allocatable: s.allocatable, free: s.free };
}

export function decodeState(json: unknown): PoolState {
  const o = obj(json, 'pool state');
  const s = { k: big(o.k, 'k'), at: int(o.at, 'at'), allocatable: int(o.allocatable, 'allocatable'), free: int(o.free, 'free') };
  if (s.free > s.allocatable) throw new TypeError('free exceeds allocatable');
  return s;
}

export function encodeParams(p: PoolParams): PoolParamsJson {
  return { ...p, floor: p.floor.toString(), ceiling: p.ceiling.toString(), initialPrice: p.initialPrice.toString() };
}

export function decodeParams(json: unknown): PoolParams {
  const o = obj(json, 'pool params');
  return validateParams({
    floor: big(o.floor, 'floor'),
    ceiling: big(o.ceiling, 'ceiling'),
    initialPrice: big(o.initialPrice, 'initialPrice'),
    depth: int(o.depth, 'depth'),
    targetUtilizationPpm: int(o.targetUtilizationPpm, 'targetUtilizationPpm'),
    responseTimeSeconds: int(o.responseTimeSeconds, 'responseTimeSeconds'),
    feeBps: int(o.feeBps, 'feeBps'),
  });
}

export function encodeEvent(e: PoolEvent): PoolEventJson {
  const out: PoolEventJson = {};
  for (const [key, value] of Object.entries(e)) {
    if (value !== undefined) out[key] = typeof value === 'bigint' ? value.toString() : (value as string | number);
  }
  return out;
}

export function decodeEvent(json: unknown): PoolEvent {
  const o = obj(json, 'pool event');
  const at = int(o.at, 'at');
  const lease = o.lease === undefined ? {} : { lease: String(o.lease) };
  switch (o.kind as PoolEvent['kind']) {
    case 'capacity':
      return { kind: 'capacity', at, allocatable: int(o.allocatable, 'allocatable'), free: int(o.free, 'free') };
    case 'take': {
      const total = o.total === undefined ? {} : { total: big(o.total, 'total') };
      return { kind: 'take', at, gpus: int(o.gpus, 'gpus'), seconds: int(o.seconds, 'seconds'), ...lease, ...total };
    }
    case 'release':
      return { kind: 'release', at, gpus: int(o.gpus, 'gpus'), ...lease };
    case 'tick':
      return { kind: 'tick', at };
    default:
      throw new TypeError(`unknown pool event kind ${String(o.kind)}`);
  }
}
