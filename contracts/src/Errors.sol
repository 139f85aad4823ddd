// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Errors
/// @notice Every custom error that LeaseEscrow raises. Each carries the values a caller needs to act on it
/// (the operator's chain client decodes them into typed errors with a human message).
library Errors {
    /*//////////////////////////////////////////////////////////////
                                 OPEN
    //////////////////////////////////////////////////////////////*/

    /// @notice An address that must be set (payer, provider, treasury, token, admin) is zero.
    error LeaseEscrow_ZeroAddress();

    /// @notice A lease cannot lock nothing.
    error LeaseEscrow_ZeroAmount();

    /// @notice The amount does not fit the lease's storage (uint96).
    error LeaseEscrow_AmountTooLarge(uint256 amount, uint256 limit);

    /// @notice The lease's namespace, name or uid is empty.
    error LeaseEscrow_InvalidLeaseIdentity();

    /// @notice The settler asked for more than the payer authorised.
    error LeaseEscrow_AmountExceedsAuthorization(uint256 amount, uint256 maxAmount);

    /// @notice The authorisation's deadline has passed.
    error LeaseEscrow_AuthorizationExpired(uint256 deadline, uint256 timestamp);

    /// @notice The signature was not made by the payer over these exact terms, this chain and this escrow.
    /// @param recovered the address the signature recovers to (zero when it is malformed).
    error LeaseEscrow_InvalidSigner(address payer, address recovered);

    /// @notice The payer already used (or revoked) this authorisation nonce.
    error LeaseEscrow_NonceUsed(address payer, uint256 nonce);

    /// @notice A lease with this (namespace, name, uid) was already opened.
    error LeaseEscrow_LeaseExists(bytes32 leaseId);

    /// @notice The payer has not approved the escrow for enough tokens.
    error LeaseEscrow_AllowanceTooLow(address payer, uint256 allowance, uint256 required);

    /// @notice The payer does not hold enough tokens.
    error LeaseEscrow_BalanceTooLow(address payer, uint256 balance, uint256 required);

    /*//////////////////////////////////////////////////////////////
                                SETTLE
    //////////////////////////////////////////////////////////////*/

    /// @notice No lease was opened with this id.
    error LeaseEscrow_LeaseNotFound(bytes32 leaseId);

    /// @notice The lease was already settled; a lease settles at most once.
    error LeaseEscrow_LeaseAlreadySettled(bytes32 leaseId);

    /// @notice providers[] and amounts[] differ in length.
    error LeaseEscrow_LengthMismatch(uint256 providers, uint256 amounts);

    /// @notice Provider amounts + fee + refund must equal the amount locked, exactly.
    error LeaseEscrow_SettlementMismatch(bytes32 leaseId, uint256 credited, uint256 locked);

    /// @notice settleMany was called with no settlements.
    error LeaseEscrow_EmptyBatch();

    /*//////////////////////////////////////////////////////////////
                               WITHDRAW
    //////////////////////////////////////////////////////////////*/

    /// @notice The account has no credited balance.
    error LeaseEscrow_NothingToWithdraw(address account);

    /*//////////////////////////////////////////////////////////////
                              INVARIANT
    //////////////////////////////////////////////////////////////*/

    /// @notice After a transfer the escrow holds fewer tokens than it owes (a fee-on-transfer or broken token).
    error LeaseEscrow_Insolvent(uint256 balance, uint256 liabilities);
}
