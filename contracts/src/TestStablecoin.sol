// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title TestStablecoin
/// @notice A 6-decimal stablecoin with EIP-2612 permit for LOCAL USE ONLY (anvil, tests, the local market):
/// anyone can mint any amount. Never deploy it on a chain where tokens have value.
contract TestStablecoin is ERC20, ERC20Permit {
    constructor() ERC20("PinFi Test USD", "tUSD") ERC20Permit("PinFi Test USD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` base units to `to`. Open to anyone: this is a faucet for local chains.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
