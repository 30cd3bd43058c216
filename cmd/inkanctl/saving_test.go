package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/inkan-dev/inkan/agent"
)

// notSavedThen returns an enrollment that fails to save failures times, then
// succeeds, counting its calls.
func notSavedThen(failures int, calls *int) func() (*agent.Identity, error) {
	return func() (*agent.Identity, error) {
		*calls++
		if *calls <= failures {
			return nil, &agent.NotSavedError{Renewal: true, Err: errors.New("keyring is locked")}
		}
		return &agent.Identity{Label: "yamada+1376"}, nil
	}
}

func TestAnIssuedButUnsavedCertificateIsSavedByRetryingInTheSameCommand(t *testing.T) {
	saveRetryWait = 0
	var stderr bytes.Buffer
	c := &cli{stderr: &stderr, lang: "en"}
	calls := 0
	id, err := c.saving(context.Background(), notSavedThen(2, &calls))
	if err != nil || id == nil || id.Label != "yamada+1376" {
		t.Fatalf("saving = %v, %v; want the identity after two retries", id, err)
	}
	if calls != 3 {
		t.Fatalf("enrolled %d times, want 3 (one try and two retries with the kept key)", calls)
	}
	if !strings.Contains(stderr.String(), "retrying, 2/2") {
		t.Fatalf("the retries are not reported: %q", stderr.String())
	}
}

func TestACertificateThatCannotBeSavedBeforeTheCommandEndsAsksForAReissue(t *testing.T) {
	saveRetryWait = 0
	c := &cli{stderr: &bytes.Buffer{}}
	calls := 0
	_, err := c.saving(context.Background(), notSavedThen(10, &calls))
	var notSaved *agent.NotSavedError
	if !errors.As(err, &notSaved) || !notSaved.KeyLost {
		t.Fatalf("err = %v; want a NotSavedError with KeyLost, since the key ends with the command", err)
	}
	if calls != saveRetries+1 {
		t.Fatalf("enrolled %d times, want %d", calls, saveRetries+1)
	}
	if msg := agent.Message(err, "ja"); !strings.Contains(msg, "再発行を依頼してください") {
		t.Fatalf("the message does not ask for a reissue: %q", msg)
	}
	if msg := agent.Message(err, "en"); !strings.Contains(msg, "ask your administrator (the bank, for an admin ID) for a reissue") {
		t.Fatalf("the English message does not ask for a reissue: %q", msg)
	}
}

func TestOtherFailuresAreNotRetried(t *testing.T) {
	c := &cli{stderr: &bytes.Buffer{}}
	calls := 0
	refused := errors.New("refused")
	_, err := c.saving(context.Background(), func() (*agent.Identity, error) { calls++; return nil, refused })
	if !errors.Is(err, refused) || calls != 1 {
		t.Fatalf("err = %v after %d calls; want the refusal after one call", err, calls)
	}
}
