package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// KeptKeyGrace is how long the agent keeps the pending key of a pickup or
// renewal whose certificate the server issued but the store could not install,
// by the agent's clock: the server's default repeat grace period
// (policy.repeat_grace_hours), within which it answers a repeat with the same key
// with the certificate it already issued. An older kept key is discarded.
const KeptKeyGrace = 24 * time.Hour

// NotSavedError means the bank's server issued the certificate but this PC could
// not save it (the store's Attach failed: disk full, keyring locked, a store
// fault). The agent keeps the pending key and its CSR: the same Pickup (same
// login ID) or Renew (same certificate) tried again by this agent within
// [KeptKeyGrace] sends the same CSR, the server answers the certificate it
// already issued, and the agent installs it. No 再発行 is needed.
type NotSavedError struct {
	// Renewal is true for a renewal (更新), false for a pickup (取得).
	Renewal bool
	// Err is the store's failure.
	Err error
	// KeyLost is set by a caller that gave up and will not try again in this
	// process (inkanctl, at the end of its command): the kept key goes with the
	// process, so the way out is a 再発行 once the store is fixed.
	KeyLost bool
}

// Error implements error.
func (e *NotSavedError) Error() string {
	return fmt.Sprintf("the certificate was issued but could not be saved on this PC (the key is kept: try again): %v", e.Err)
}

// Unwrap returns the store's failure.
func (e *NotSavedError) Unwrap() error { return e.Err }

// keptSlot names a kept enrollment: a pickup by its login ID, a renewal by the
// fingerprint of the certificate it renews.
type keptSlot struct {
	renewal bool
	name    string
}

// enrollment is a pending key and the CSR made with it.
type enrollment struct {
	key certstore.Key
	csr []byte
	// keptAt is when the agent first kept it, after the server had issued a
	// certificate for it; zero while it was never kept.
	keptAt time.Time
}

// takeKept removes and returns the enrollment kept for slot, or nil. It first
// discards every kept enrollment older than [KeptKeyGrace].
func (a *Agent) takeKept(ctx context.Context, slot keptSlot) *enrollment {
	a.keptMu.Lock()
	stale := a.expireKeptLocked()
	e := a.kept[slot]
	delete(a.kept, slot)
	a.keptMu.Unlock()
	discardAll(ctx, stale)
	return e
}

// keep keeps e for slot, to be taken by the next pickup or renewal of it. An
// enrollment kept for slot already is discarded: e is the one the server
// answered last.
func (a *Agent) keep(ctx context.Context, slot keptSlot, e *enrollment) {
	if e.keptAt.IsZero() {
		e.keptAt = a.now()
	}
	a.keptMu.Lock()
	if a.kept == nil {
		a.kept = map[keptSlot]*enrollment{}
	}
	stale := a.expireKeptLocked()
	if prev := a.kept[slot]; prev != nil {
		stale = append(stale, prev)
	}
	a.kept[slot] = e
	a.keptMu.Unlock()
	discardAll(ctx, stale)
}

// expireKeptLocked removes the kept enrollments older than [KeptKeyGrace] and
// returns them to be discarded. a.keptMu must be held.
func (a *Agent) expireKeptLocked() []*enrollment {
	var stale []*enrollment
	now := a.now()
	for slot, e := range a.kept {
		if now.Sub(e.keptAt) > KeptKeyGrace {
			stale = append(stale, e)
			delete(a.kept, slot)
		}
	}
	return stale
}

// discardKept discards every kept enrollment.
func (a *Agent) discardKept(ctx context.Context) {
	a.keptMu.Lock()
	var all []*enrollment
	for _, e := range a.kept {
		all = append(all, e)
	}
	a.kept = nil
	a.keptMu.Unlock()
	discardAll(ctx, all)
}

// discardAll discards the pending keys of es. A failed discard leaves nothing
// listed, and the caller is not the one to hear of it.
func discardAll(ctx context.Context, es []*enrollment) {
	for _, e := range es {
		_ = e.key.Discard(context.WithoutCancel(ctx))
	}
}

// keyRefused reports whether err is the server refusing the CSR's key itself:
// sending the same key again cannot help, so a kept key is not kept further.
func keyRefused(err error) bool {
	switch Code(err) {
	case wire.CodeBadCSR, wire.CodeKeyNotAllowed:
		return true
	}
	return false
}
