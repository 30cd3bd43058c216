package server

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/ca"
)

// TestServeWarnsBeforeTheRootCRLLapses moves the clock of a serving data
// directory towards the root CRL's nextUpdate: nothing is said while it is far,
// a warning (with the command that signs the next one) within RootCRLWarning,
// an error once it has passed; status (CheckHealth) says the same. (The test
// directory's keys are in clear, which CheckHealth also reports: not checked here.)
func TestServeWarnsBeforeTheRootCRLLapses(t *testing.T) {
	e := newEnv(t)
	crl, err := ca.ReadRootCRL(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	srv, err := Open(e.dir, Options{Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(e.ctx)
	for _, c := range []struct {
		at   time.Time
		want string // in the log; "" for nothing about the root CRL
	}{
		{crl.NextUpdate.Add(-RootCRLWarning - 24*time.Hour), ""},
		{crl.NextUpdate.Add(-RootCRLWarning + 24*time.Hour), `level=WARN msg="ルートCRL（番号 1）はあと59日`},
		{crl.NextUpdate.Add(time.Hour), `level=ERROR msg="ルートCRL（番号 1）の次回更新日時`},
	} {
		e.clock.Set(c.at)
		logged.Reset()
		srv.logHealth()
		got := logged.String()
		if c.want == "" {
			if strings.Contains(got, "root_crl") {
				t.Fatalf("at %s, %s before the root CRL lapses, serve logged:\n%s", c.at, crl.NextUpdate.Sub(c.at), got)
			}
			continue
		}
		if !strings.Contains(got, c.want) || !strings.Contains(got, "inkan-server ca root-crl --data") || !strings.Contains(got, "en=\"The root CRL") {
			t.Fatalf("at %s serve logged:\n%s\nwant %q, the English and the command", c.at, got, c.want)
		}
		h, err := CheckHealth(e.dir, c.at)
		if err != nil || !slices.ContainsFunc(h.Problems(), func(i HealthItem) bool { return i.What == "root_crl" && i.Fix != "" }) {
			t.Fatalf("CheckHealth at %s: %v %+v", c.at, err, h)
		}
	}
	// Signing the next one quiets it.
	if _, err := ca.SignRootCRL(e.dir, e.rootKey, nil, ca.RootCRLValidity, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	logged.Reset()
	srv.logHealth()
	if strings.Contains(logged.String(), "root_crl") {
		t.Fatalf("after ca root-crl serve still logs:\n%s", logged.String())
	}
}
