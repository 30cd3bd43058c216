// Package lifecycle holds the rules of the certificate life cycle that the Inkan
// server enforces: issue, pick up, lapse, log in, certificate mode, validity,
// renew, revoke, reissue, and the password rules (argon2id, lockout).
//
// Every rule of DESIGN.md's life-cycle table lives here, and only here. The
// package takes a clock ([Service.Now]) so tests cross day boundaries without
// waiting, a store.Store for records, and a ca.CA to sign. It knows nothing of
// HTTP: callers (the EST and JSON handlers, the operator CLI) pass what they were
// given and get back records or one of the sentinel errors below, each a
// [*RuleError] carrying the wire code the HTTP layer answers with.
//
// # Transactions and audit
//
// Every life-cycle change is one store transaction that also appends an audit
// row naming the actor, the action, the target, the time and the remote address.
// Password hashing runs outside transactions, so a slow hash never holds the
// database's write lock.
package lifecycle
