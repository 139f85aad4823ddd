// Names PinFi shares with the rest of the cluster: labels, annotations, taints.
export const POOL_LABEL = 'pinfi.io/pool';
export const PAYOUT_LABEL = 'pinfi.io/payout-address';
export const LEASE_LABEL = 'pinfi.io/lease';
export const POOL_TAINT = 'pinfi.io/pool';
export const PRODUCT_LABEL = 'nvidia.com/gpu.product';
export const REPLICAS_LABEL = 'nvidia.com/gpu.replicas';
