package certstore

import "context"

// CheckStep is one step of a store's self-check (動作環境チェック): what was
// tried, the OS call that did it, and what it answered.
type CheckStep struct {
	Name   string // what the step checks, for the report, in Japanese
	NameEn string // the same in English
	Call   string // the OS call it makes, e.g. "NCryptCreatePersistedKey"
	// Err is nil when the step succeeded. A *SystemError names the call and its status.
	Err error
	// Skipped says the step did not run because an earlier one it needs failed.
	Skipped bool
}

// SelfChecker is a store that can check, on this PC, every step a pickup and a
// browser login take, with throw-away keys and certificates it removes again.
type SelfChecker interface {
	SelfCheck(ctx context.Context, alg Algorithm) []CheckStep
}
