package chain

import "errors"

// ErrCapacity marks the error of a remote call that failed for want of
// capacity that tenants share, not because of its bindings. Either no
// plugin worker could be had, or the pool stopped the worker that ran the
// call, for example to make room for another tenant's worker. A Batch
// wraps it. The guard applies the binding's on_error rule and logs the
// failure, but does not count it towards a quarantine.
var ErrCapacity = errors.New("no plugin worker capacity for the call")
