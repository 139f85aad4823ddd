// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice TEST ONLY. An ERC-20 that, once armed, calls back into a target (the escrow) from inside a transfer,
/// the way a malicious or hook-carrying token would. It records whether the re-entrant call succeeded and what it
/// reverted with, and lets the outer transfer finish, so a test can assert the guard held and the books balance.
contract ReentrantToken is ERC20 {
    address public reentryTarget;
    bytes public payload;
    bool public armed;
    bool public attempted;
    bool public reentrySucceeded;
    bytes public reentryRevertData;

    event ReentryAttempted(bool succeeded, bytes revertData);

    constructor() ERC20("Reentrant Token", "RENT") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The next transfer or transferFrom calls `target` with `data` before moving tokens.
    function arm(address target_, bytes calldata data) external {
        reentryTarget = target_;
        payload = data;
        armed = true;
        attempted = false;
        reentrySucceeded = false;
        delete reentryRevertData;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (armed && from != address(0)) {
            armed = false;
            attempted = true;
            (bool ok, bytes memory ret) = reentryTarget.call(payload);
            reentrySucceeded = ok;
            if (!ok) reentryRevertData = ret;
            emit ReentryAttempted(ok, ret);
        }
        super._update(from, to, value);
    }
}
