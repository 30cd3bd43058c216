package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/inkan-dev/inkan/wire"
)

// pathPolicy is the bank's policy for agents (wire.Policy).
const pathPolicy = "/api/v1/policy"

// Policy asks the bank what it lets the agent do by itself. A server that
// predates GET /api/v1/policy allows silent renewal, the default.
func (a *Agent) Policy(ctx context.Context) (wire.Policy, error) {
	c, err := a.client(ctx, nil)
	if err != nil {
		return wire.Policy{}, fmt.Errorf("ask the bank's policy: %w", err)
	}
	var p wire.Policy
	err = doJSON(ctx, c, "", http.MethodGet, pathPolicy, nil, &p)
	var refused *Error
	if errors.As(err, &refused) && (refused.Status == http.StatusNotFound || refused.Code == wire.CodeBadRequest) {
		return wire.Policy{AutoRenew: true, RenewBeforeDays: a.cfg.renewBefore(), RenewAfterDays: a.cfg.renewAfter()}, nil
	}
	if err != nil {
		return wire.Policy{}, fmt.Errorf("ask the bank's policy: %w", err)
	}
	return p, nil
}

// Renewal is one silent renewal: Old was renewed into New, or Err says why
// not (Old is nil when the certificates could not even be checked).
type Renewal struct {
	Old *Identity
	New *Identity // nil when Err is set
	Err error
	// Attempts is how many times it was tried (retries after network errors,
	// a busy server or a store that failed).
	Attempts int
}

// AutoRenewOptions tunes [Agent.AutoRenew].
type AutoRenewOptions struct {
	// Attempts per identity; zero means 3.
	Attempts int
	// Backoff is the first wait between attempts, doubling each time; zero means 2s.
	Backoff time.Duration
}

// ErrAutoRenewOff says the bank does not allow silent renewal: the user renews.
var ErrAutoRenewOff = errors.New("the bank does not allow automatic renewal: renew (更新) it yourself")

// AutoRenew renews, with no user action and each with a new key, every
// certificate of this bank whose renewal window is open, when the bank's policy
// allows it. Each is renewed once: the renewed certificate's window is a year
// away. A failure that may pass (network, busy server, the store) is retried
// with backoff; a refusal is not. The old certificate stays until the new one is
// stored ([Agent.Renew]), and the browser's copy follows. It returns what it
// did, nothing when nothing was due, and ErrAutoRenewOff when the bank says no.
func (a *Agent) AutoRenew(ctx context.Context, opts AutoRenewOptions) ([]Renewal, error) {
	if opts.Attempts <= 0 {
		opts.Attempts = 3
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 2 * time.Second
	}
	ids, err := a.Identities(ctx)
	if err != nil {
		return nil, fmt.Errorf("automatic renewal: %w", err)
	}
	var due []*Identity
	for _, id := range ids {
		if id.State == StateRenewable || id.State == StateExpiredRenewable {
			due = append(due, id)
		}
	}
	if len(due) == 0 {
		return nil, nil
	}
	p, err := a.Policy(ctx)
	if err != nil {
		return nil, fmt.Errorf("automatic renewal: %w", err)
	}
	if !p.AutoRenew {
		return nil, ErrAutoRenewOff
	}
	var out []Renewal
	for _, id := range due {
		r := Renewal{Old: id}
		wait := opts.Backoff
		for r.Attempts < opts.Attempts {
			r.Attempts++
			r.New, r.Err = a.Renew(ctx, id.Fingerprint, nil)
			if r.Err == nil || !passing(r.Err) || r.Attempts == opts.Attempts {
				break
			}
			select {
			case <-ctx.Done():
				r.Err = errors.Join(r.Err, ctx.Err())
			case <-time.After(wait):
			}
			if ctx.Err() != nil {
				break
			}
			wait *= 2
		}
		if r.Err != nil && r.New != nil {
			// Installed, but the old one could not be removed: renewed all the same.
			r.Err = nil
		}
		out = append(out, r)
	}
	return out, nil
}

// passing reports whether err may go away by itself, so that trying again helps.
func passing(err error) bool {
	switch Classify(err) {
	case CategoryNetwork, CategoryStore:
		return true
	case CategoryRefused:
		c := Code(err)
		return c == wire.CodeUnavailable || c == wire.CodeRateLimited || c == wire.CodeInternal
	}
	return false
}

// RenewedNotice is the notice shown after a silent renewal, in lang.
func RenewedNotice(r Renewal, lang string) string {
	if r.Err != nil && r.Old == nil {
		if lang == "en" {
			return "Automatic renewal could not check the certificates: " + Message(r.Err, lang)
		}
		return "電子証明書の自動更新を確認できませんでした。" + Message(r.Err, lang)
	}
	if r.Err != nil {
		if lang == "en" {
			return fmt.Sprintf("The certificate %s could not be renewed automatically: %s", r.Old.Label, Message(r.Err, lang))
		}
		return fmt.Sprintf("電子証明書 %s を自動で更新できませんでした。%s", r.Old.Label, Message(r.Err, lang))
	}
	if lang == "en" {
		return fmt.Sprintf("The certificate was renewed: %s, valid until %s.", r.New.Label, r.New.NotAfter.Format("2006-01-02"))
	}
	return fmt.Sprintf("電子証明書を更新しました: %s(有効期限 %s)", r.New.Label, r.New.NotAfter.Format("2006年1月2日"))
}

// RunAutoRenew renews silently while ctx lasts, for a running agent (the
// tray): now, then every interval, and after a failure again sooner (retry,
// doubling from a minute up to interval). notify gets every renewal and every
// failure, for the user's notice (「電子証明書を更新しました」). interval zero
// means six hours.
func (a *Agent) RunAutoRenew(ctx context.Context, interval time.Duration, notify func(Renewal)) {
	if interval <= 0 {
		interval = 6 * time.Hour
	}
	retry := time.Minute
	for {
		next := interval
		// A browser copy that failed before (tools missing, database locked)
		// is tried again each round.
		a.syncBrowserAfter(ctx)
		rs, err := a.AutoRenew(ctx, AutoRenewOptions{})
		failed := err != nil && !errors.Is(err, ErrAutoRenewOff)
		if failed {
			notify(Renewal{Err: err})
		}
		for _, r := range rs {
			notify(r)
			failed = failed || r.Err != nil
		}
		if failed {
			next = min(retry, interval)
			retry *= 2
		} else {
			retry = time.Minute
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
		}
	}
}
