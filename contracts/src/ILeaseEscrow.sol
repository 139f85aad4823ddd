// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ILeaseEscrow
/// @notice Types and events of the PinFi lease escrow. One lease, from signature to withdrawal:
///   1. the payer signs a LeaseAuthorization (EIP-712) and approves the escrow on the token (or signs a permit);
///   2. the settler (the operator) calls `open`: the escrow checks the signature and pulls `amount` into escrow;
///   3. when the lease ends the settler calls `settle` (or `settleMany`): the locked amount is split, exactly,
///      into provider credits, the pool treasury's fee and the payer's refund;
///   4. each beneficiary calls `withdraw` to collect what it was credited (pull payments).
interface ILeaseEscrow {
    /// @notice None = never opened; Open = funds locked; Settled = funds credited to beneficiaries.
    enum LeaseStatus {
        None,
        Open,
        Settled
    }

    /// @notice Why a lease closed. Recorded in storage and in LeaseSettled.
    enum CloseReason {
        Completed,
        Cancelled,
        ProviderFailure,
        FundingFailed,
        Expired
    }

    /// @notice What the payer signs (EIP-712 type `LeaseAuthorization`).
    /// @dev The lease identity is the ComputeLease's Kubernetes namespace, name and uid;
    /// leaseId = keccak256(abi.encode(namespace, name, uid)).
    struct LeaseTerms {
        address payer;
        string namespace;
        string name;
        string uid;
        string pool;
        uint256 maxAmount;
        uint256 deadline;
        uint256 nonce;
    }

    /// @notice One lease to open in an `openMany` batch: the payer's terms, the amount to lock, their signature.
    struct OpenRequest {
        LeaseTerms terms;
        uint256 amount;
        bytes signature;
    }

    /// @notice An EIP-2612 permit for the escrow, signed by the payer on the token.
    struct Permit {
        uint256 value;
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice One lease's close in a settleMany batch.
    struct Settlement {
        bytes32 leaseId;
        address[] providers;
        uint256[] amounts;
        uint256 fee;
        uint256 refund;
        CloseReason reason;
    }

    /// @notice A lease as stored. After settlement `locked` and `treasury` read zero (the slot is freed for a
    /// gas refund); the amounts are in the LeaseSettled and ProviderCredited events.
    struct LeaseState {
        LeaseStatus status;
        CloseReason reason;
        address payer;
        uint40 openedAt;
        uint96 locked;
        address treasury;
    }

    /// @notice The settler opened a lease and pulled `amount` from the payer into escrow.
    event LeaseOpened(
        bytes32 indexed leaseId,
        address indexed payer,
        bytes32 indexed poolId,
        uint256 amount,
        uint256 maxAmount,
        uint256 nonce,
        address treasury,
        string namespace,
        string name,
        string uid
    );

    /// @notice A lease was settled: its locked amount was credited to providers, the treasury and the payer.
    event LeaseSettled(
        bytes32 indexed leaseId,
        address indexed payer,
        CloseReason reason,
        uint256 locked,
        uint256 providersTotal,
        uint256 fee,
        uint256 refund
    );

    /// @notice A provider was credited for a lease (one event per provider with a non-zero amount).
    event ProviderCredited(bytes32 indexed leaseId, address indexed provider, uint256 amount);

    /// @notice An account collected its credited balance.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice A payer revoked an authorisation nonce before it was used.
    event NonceRevoked(address indexed payer, uint256 nonce);

    /// @notice The treasury that receives fees of pools with no treasury of their own changed.
    event DefaultTreasurySet(address indexed treasury);

    /// @notice A pool's treasury changed (zero = use the default treasury). Applies to leases opened afterwards.
    event PoolTreasurySet(bytes32 indexed poolId, address indexed treasury);
}
