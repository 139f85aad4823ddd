// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {Errors} from "./Errors.sol";
import {ILeaseEscrow} from "./ILeaseEscrow.sol";

/// @title LeaseEscrow
/// @notice Locks a GPU lease's payment under the payer's EIP-712 authorisation and settles it, exactly once,
/// into pull-payment balances for the providers, the pool treasury (fee) and the payer (refund).
/// @dev Invariants:
///   - per lease: provider amounts + fee + refund == locked (checked in every settle);
///   - globally: token.balanceOf(this) >= liabilities, where liabilities = sum(locked of open leases) + sum(owed)
///     (checked after every transfer; settle moves value from locked to owed and leaves liabilities unchanged).
contract LeaseEscrow is ILeaseEscrow, AccessControl, Pausable, ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The operator's key: opens and settles leases.
    bytes32 public constant SETTLER_ROLE = keccak256("SETTLER_ROLE");

    bytes32 public constant AUTHORIZATION_TYPEHASH = keccak256(
        "LeaseAuthorization(address payer,string namespace,string name,string uid,string pool,uint256 maxAmount,uint256 deadline,uint256 nonce)"
    );

    /// @notice The payment token (a 6-decimal stablecoin in practice). Fixed for the escrow's life.
    IERC20 public immutable token;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Slot 1 of a lease: kept after settlement (status, reason, payer, openedAt).
    struct LeaseHeader {
        address payer;
        LeaseStatus status;
        CloseReason reason;
        uint40 openedAt;
    }

    /// @dev Slot 2 of a lease: freed (zeroed) at settlement for the gas refund.
    struct LeaseFunds {
        uint96 locked;
        address treasury;
    }

    /// @notice Fee recipient for pools without a treasury of their own.
    address public defaultTreasury;

    /// @notice Per-pool fee recipient, keyed by poolIdOf(pool). Zero = defaultTreasury.
    mapping(bytes32 poolId => address treasury) public poolTreasury;

    /// @notice Credited and not yet withdrawn, per account.
    mapping(address account => uint256 amount) public owed;

    /// @notice Sum of locked (open leases) and owed (credited, not withdrawn). The escrow always holds at least this.
    uint256 public liabilities;

    /// @notice Unordered authorisation nonces: bit (nonce & 255) of word (nonce >> 8) is set once used or revoked.
    mapping(address payer => mapping(uint256 word => uint256 bits)) public nonceBitmap;

    mapping(bytes32 leaseId => LeaseHeader) private _headers;
    mapping(bytes32 leaseId => LeaseFunds) private _funds;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor(IERC20 token_, address admin, address settler, address treasury) EIP712("PinFi LeaseEscrow", "1") {
        if (address(token_) == address(0) || admin == address(0) || settler == address(0) || treasury == address(0)) {
            revert Errors.LeaseEscrow_ZeroAddress();
        }
        token = token_;
        defaultTreasury = treasury;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SETTLER_ROLE, settler);
        emit DefaultTreasurySet(treasury);
    }

    /*//////////////////////////////////////////////////////////////
                                  OPEN
    //////////////////////////////////////////////////////////////*/

    /// @notice Opens a lease: checks the payer's authorisation and pulls `amount` (<= terms.maxAmount) into escrow.
    /// The payer must have approved the escrow for at least `amount`.
    function open(LeaseTerms calldata terms, uint256 amount, bytes calldata signature)
        external
        onlyRole(SETTLER_ROLE)
        whenNotPaused
        nonReentrant
        returns (bytes32 leaseId)
    {
        leaseId = _open(terms, amount, signature);
    }

    /// @notice Opens many leases in one transaction, each exactly as `open` would; all or nothing (the settler
    /// simulates the batch first and opens one by one when any request would fail).
    function openMany(OpenRequest[] calldata requests)
        external
        onlyRole(SETTLER_ROLE)
        whenNotPaused
        nonReentrant
        returns (bytes32[] memory leaseIds)
    {
        uint256 n = requests.length;
        if (n == 0) revert Errors.LeaseEscrow_EmptyBatch();
        leaseIds = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            OpenRequest calldata r = requests[i];
            leaseIds[i] = _open(r.terms, r.amount, r.signature);
        }
    }

    /// @notice Like `open`, with an EIP-2612 permit instead of a prior approval. A permit that fails (already used,
    /// e.g. front-run, or a token without permit) is ignored; the allowance check then decides.
    function openWithPermit(LeaseTerms calldata terms, uint256 amount, bytes calldata signature, Permit calldata permit)
        external
        onlyRole(SETTLER_ROLE)
        whenNotPaused
        nonReentrant
        returns (bytes32 leaseId)
    {
        // Interaction (an approval on the token only: no escrow state is read or written before _open's checks).
        try IERC20Permit(address(token)).permit(
            terms.payer, address(this), permit.value, permit.deadline, permit.v, permit.r, permit.s
        ) {} catch {}
        leaseId = _open(terms, amount, signature);
    }

    /// @notice The payer revokes an authorisation it signed and that has not been used yet.
    function revokeNonce(uint256 nonce) external {
        // Check
        (uint256 word, uint256 bit) = _nonceSlot(nonce);
        if (nonceBitmap[msg.sender][word] & bit != 0) revert Errors.LeaseEscrow_NonceUsed(msg.sender, nonce);
        // Effect
        nonceBitmap[msg.sender][word] |= bit;
        emit NonceRevoked(msg.sender, nonce);
    }

    function _open(LeaseTerms calldata terms, uint256 amount, bytes calldata signature)
        private
        returns (bytes32 leaseId)
    {
        address payer = terms.payer;

        // Check
        if (payer == address(0)) revert Errors.LeaseEscrow_ZeroAddress();
        if (amount == 0) revert Errors.LeaseEscrow_ZeroAmount();
        if (amount > terms.maxAmount) revert Errors.LeaseEscrow_AmountExceedsAuthorization(amount, terms.maxAmount);
        if (amount > type(uint96).max) revert Errors.LeaseEscrow_AmountTooLarge(amount, type(uint96).max);
        if (block.timestamp > terms.deadline) {
            revert Errors.LeaseEscrow_AuthorizationExpired(terms.deadline, block.timestamp);
        }
        if (bytes(terms.namespace).length == 0 || bytes(terms.name).length == 0 || bytes(terms.uid).length == 0) {
            revert Errors.LeaseEscrow_InvalidLeaseIdentity();
        }
        leaseId = leaseIdOf(terms.namespace, terms.name, terms.uid);
        if (_headers[leaseId].status != LeaseStatus.None) revert Errors.LeaseEscrow_LeaseExists(leaseId);
        _checkSigner(terms, signature);
        (uint256 word, uint256 bit) = _nonceSlot(terms.nonce);
        if (nonceBitmap[payer][word] & bit != 0) revert Errors.LeaseEscrow_NonceUsed(payer, terms.nonce);
        uint256 allowance = token.allowance(payer, address(this));
        if (allowance < amount) revert Errors.LeaseEscrow_AllowanceTooLow(payer, allowance, amount);
        uint256 balance = token.balanceOf(payer);
        if (balance < amount) revert Errors.LeaseEscrow_BalanceTooLow(payer, balance, amount);

        // Effect
        nonceBitmap[payer][word] |= bit;
        bytes32 poolId = poolIdOf(terms.pool);
        address treasury = poolTreasury[poolId];
        if (treasury == address(0)) treasury = defaultTreasury;
        _headers[leaseId] = LeaseHeader({
            payer: payer, status: LeaseStatus.Open, reason: CloseReason.Completed, openedAt: uint40(block.timestamp)
        });
        _funds[leaseId] = LeaseFunds({locked: uint96(amount), treasury: treasury});
        liabilities += amount;
        emit LeaseOpened(
            leaseId, payer, poolId, amount, terms.maxAmount, terms.nonce, treasury, terms.namespace, terms.name, terms.uid
        );

        // Interaction
        token.safeTransferFrom(payer, address(this), amount);
        _checkSolvent();
    }

    function _checkSigner(LeaseTerms calldata terms, bytes calldata signature) private view {
        bytes32 digest = hashAuthorization(terms);
        (address recovered,,) = ECDSA.tryRecover(digest, signature);
        if (recovered == terms.payer) return;
        // A smart-contract payer (multisig, smart account) signs through ERC-1271.
        if (terms.payer.code.length > 0 && SignatureChecker.isValidERC1271SignatureNow(terms.payer, digest, signature)) {
            return;
        }
        revert Errors.LeaseEscrow_InvalidSigner(terms.payer, recovered);
    }

    /*//////////////////////////////////////////////////////////////
                                 SETTLE
    //////////////////////////////////////////////////////////////*/

    /// @notice Settles one lease: credits each provider its amount, the lease's treasury `fee` and the payer `refund`.
    /// The credits must add up to the locked amount exactly.
    function settle(
        bytes32 leaseId,
        address[] calldata providers,
        uint256[] calldata amounts,
        uint256 fee,
        uint256 refund,
        CloseReason reason
    ) external onlyRole(SETTLER_ROLE) whenNotPaused nonReentrant {
        _settle(leaseId, providers, amounts, fee, refund, reason);
    }

    /// @notice Settles many leases in one transaction; all or nothing.
    function settleMany(Settlement[] calldata settlements) external onlyRole(SETTLER_ROLE) whenNotPaused nonReentrant {
        uint256 n = settlements.length;
        if (n == 0) revert Errors.LeaseEscrow_EmptyBatch();
        for (uint256 i; i < n; ++i) {
            Settlement calldata s = settlements[i];
            _settle(s.leaseId, s.providers, s.amounts, s.fee, s.refund, s.reason);
        }
    }

    function _settle(
        bytes32 leaseId,
        address[] calldata providers,
        uint256[] calldata amounts,
        uint256 fee,
        uint256 refund,
        CloseReason reason
    ) private {
        LeaseHeader storage header = _headers[leaseId];

        // Check
        LeaseStatus status = header.status;
        if (status == LeaseStatus.None) revert Errors.LeaseEscrow_LeaseNotFound(leaseId);
        if (status == LeaseStatus.Settled) revert Errors.LeaseEscrow_LeaseAlreadySettled(leaseId);
        uint256 count = providers.length;
        if (count != amounts.length) revert Errors.LeaseEscrow_LengthMismatch(count, amounts.length);
        LeaseFunds memory funds = _funds[leaseId];
        uint256 providersTotal;
        for (uint256 i; i < count; ++i) {
            if (providers[i] == address(0)) revert Errors.LeaseEscrow_ZeroAddress();
            providersTotal += amounts[i];
        }
        // Conservation: every unit locked is credited to someone, and nothing more.
        uint256 credited = providersTotal + fee + refund;
        if (credited != funds.locked) revert Errors.LeaseEscrow_SettlementMismatch(leaseId, credited, funds.locked);

        // Effect (settle moves value from locked to owed: liabilities are unchanged)
        address payer = header.payer;
        header.status = LeaseStatus.Settled;
        header.reason = reason;
        delete _funds[leaseId];
        for (uint256 i; i < count; ++i) {
            uint256 amount = amounts[i];
            if (amount == 0) continue;
            owed[providers[i]] += amount;
            emit ProviderCredited(leaseId, providers[i], amount);
        }
        if (fee != 0) owed[funds.treasury] += fee;
        if (refund != 0) owed[payer] += refund;
        emit LeaseSettled(leaseId, payer, reason, funds.locked, providersTotal, fee, refund);
    }

    /*//////////////////////////////////////////////////////////////
                                WITHDRAW
    //////////////////////////////////////////////////////////////*/

    /// @notice Sends the caller everything credited to it. Works while paused.
    function withdraw() external nonReentrant returns (uint256 amount) {
        // Check
        amount = owed[msg.sender];
        if (amount == 0) revert Errors.LeaseEscrow_NothingToWithdraw(msg.sender);

        // Effect
        owed[msg.sender] = 0;
        liabilities -= amount;
        emit Withdrawn(msg.sender, amount);

        // Interaction
        token.safeTransfer(msg.sender, amount);
        _checkSolvent();
    }

    /*//////////////////////////////////////////////////////////////
                                  ADMIN
    //////////////////////////////////////////////////////////////*/

    /// @notice Stops open, openWithPermit, settle and settleMany. Withdrawals keep working.
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    function setDefaultTreasury(address treasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (treasury == address(0)) revert Errors.LeaseEscrow_ZeroAddress();
        defaultTreasury = treasury;
        emit DefaultTreasurySet(treasury);
    }

    /// @notice Sets a pool's fee recipient (zero = default treasury) for leases opened from now on.
    function setPoolTreasury(bytes32 poolId, address treasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        poolTreasury[poolId] = treasury;
        emit PoolTreasurySet(poolId, treasury);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The on-chain id of a ComputeLease: keccak256(abi.encode(namespace, name, uid)).
    function leaseIdOf(string calldata namespace, string calldata name, string calldata uid)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(namespace, name, uid));
    }

    /// @notice The on-chain id of a GpuPool: keccak256(bytes(pool)).
    function poolIdOf(string calldata pool) public pure returns (bytes32) {
        return keccak256(bytes(pool));
    }

    /// @notice The EIP-712 digest the payer signs for these terms on this chain and this escrow.
    function hashAuthorization(LeaseTerms calldata terms) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    AUTHORIZATION_TYPEHASH,
                    terms.payer,
                    keccak256(bytes(terms.namespace)),
                    keccak256(bytes(terms.name)),
                    keccak256(bytes(terms.uid)),
                    keccak256(bytes(terms.pool)),
                    terms.maxAmount,
                    terms.deadline,
                    terms.nonce
                )
            )
        );
    }

    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function leaseState(bytes32 leaseId) public view returns (LeaseState memory) {
        LeaseHeader memory h = _headers[leaseId];
        LeaseFunds memory f = _funds[leaseId];
        return LeaseState({
            status: h.status, reason: h.reason, payer: h.payer, openedAt: h.openedAt, locked: f.locked, treasury: f.treasury
        });
    }

    /// @notice Many leases in one call (the operator's idempotency and conservation check before a batch).
    function leaseStates(bytes32[] calldata leaseIds) external view returns (LeaseState[] memory states) {
        states = new LeaseState[](leaseIds.length);
        for (uint256 i; i < leaseIds.length; ++i) {
            states[i] = leaseState(leaseIds[i]);
        }
    }

    function isNonceUsed(address payer, uint256 nonce) external view returns (bool) {
        (uint256 word, uint256 bit) = _nonceSlot(nonce);
        return nonceBitmap[payer][word] & bit != 0;
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _nonceSlot(uint256 nonce) private pure returns (uint256 word, uint256 bit) {
        word = nonce >> 8;
        bit = 1 << (nonce & 0xff);
    }

    /// @dev The global invariant, checked after every token transfer (cheap: one balanceOf).
    function _checkSolvent() private view {
        uint256 balance = token.balanceOf(address(this));
        if (balance < liabilities) revert Errors.LeaseEscrow_Insolvent(balance, liabilities);
    }
}
