package agent

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/inkan-dev/inkan/wire"
)

// levelAt is the expiry warning level of a certificate with notAfter, at now: from
// exactly 30 and 10 days before notAfter, and once past it (at notAfter itself the
// certificate is still valid).
func levelAt(now, notAfter time.Time) Level {
	left := notAfter.Sub(now)
	switch {
	case left < 0:
		return LevelExpired
	case left <= 10*day:
		return LevelDays10
	case left <= 30*day:
		return LevelDays30
	}
	return LevelNone
}

// Warnings returns the expiry warnings for this bank's certificates on this PC,
// computed from their dates (at 30 and 10 days before expiry, and at expiry), each
// merged with the server's [wire.NoticeRenewalDue] notice for the same certificate
// if notices holds one. Revoked certificates get none. The most urgent comes first.
func (a *Agent) Warnings(ctx context.Context, notices []wire.Notice) ([]Warning, error) {
	ids, err := a.Identities(ctx)
	if err != nil {
		return nil, fmt.Errorf("compute expiry warnings: %w", err)
	}
	now := a.now()
	var ws []Warning
	for _, id := range ids {
		if id.State == StateRevoked {
			continue
		}
		w := Warning{
			Identity:  id,
			Level:     levelAt(now, id.NotAfter),
			DaysLeft:  id.DaysLeft,
			Renewable: renewalOpen(now, id),
		}
		for i := range notices {
			n := &notices[i]
			if n.Kind == wire.NoticeRenewalDue && n.NotAfter != nil && n.NotAfter.Truncate(time.Second).Equal(id.NotAfter.Truncate(time.Second)) {
				w.Notice = n
			}
		}
		if w.Level == LevelNone && w.Notice == nil {
			continue
		}
		ws = append(ws, w)
	}
	sort.SliceStable(ws, func(i, j int) bool {
		if ws[i].Level != ws[j].Level {
			return ws[i].Level > ws[j].Level
		}
		return ws[i].DaysLeft < ws[j].DaysLeft
	})
	return ws, nil
}
