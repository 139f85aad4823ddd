// The local market's accounts: anvil's well-known keys, each with one role. The examples/
// manifests name these addresses, and the escrow and token land at fixed addresses because the
// operator's key deploys them first thing on a fresh anvil.
import { Wallet } from 'ethers';
import { ANVIL_KEYS } from '../test/env/anvil.js';

export const OPERATOR_KEY = ANVIL_KEYS[1];
export const PAYER_KEYS = { 'team-a': ANVIL_KEYS[2], 'team-b': ANVIL_KEYS[3] } as const;
export const PROVIDER_KEYS = [ANVIL_KEYS[4], ANVIL_KEYS[5]] as const;
export const TREASURY = new Wallet(ANVIL_KEYS[6]).address;
export const TOKEN_ADDRESS = '0x8464135c8F25Da09e49BC8782676a84730C318bC';
export const ESCROW_ADDRESS = '0x71C95911E9a5D330f4D621842EC243EE1343292e';

export const address = (key: string): string => new Wallet(key).address;
