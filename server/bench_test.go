package server

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

const benchClients = 32

// benchIdentities picks up one certificate for each of n IDs of one contract.
func benchIdentities(b *testing.B, e *env, n int) []*identity {
	cid := e.contract("Bench KK", "admin0")
	ids := []*identity{e.pickup("admin0", pw("admin0"))}
	for i := 1; i < n; i++ {
		loginID := fmt.Sprintf("user%02d", i)
		e.user(cid, loginID, wire.RoleGeneral)
		ids = append(ids, e.pickup(loginID, pw(loginID)))
	}
	return ids
}

// keepAliveClient is one PC: its own TLS client certificate, connections reused.
func (e *env) keepAliveClient(cert *tls.Certificate) *http.Client {
	c := e.client(cert)
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = 2
	return c
}

// BenchmarkRenewalConcurrency32 measures simplereenroll throughput: 32 clients,
// each renewing its own certificate again and again over a keep-alive connection.
func BenchmarkRenewalConcurrency32(b *testing.B) {
	// Renewal open for the whole validity, so a renewed certificate renews again at once.
	e := newEnv(b, func(c *Config) { c.Policy.RenewBeforeDays = c.Policy.ValidityDays })
	ids := benchIdentities(b, e, benchClients)
	var next atomic.Int64
	b.SetParallelism((benchClients + 1) / 2) // 32 goroutines on 2 cores
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		id := ids[int(next.Add(1)-1)%len(ids)]
		client := e.keepAliveClient(id.tls())
		for pb.Next() {
			key := newKey(b)
			req, _ := http.NewRequest("POST", e.url+"/.well-known/est/simplereenroll",
				bytes.NewReader([]byte(base64.StdEncoding.EncodeToString(csrFor(b, key)))))
			req.Header.Set("Content-Type", "application/pkcs10")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("renewal: %d %s", resp.StatusCode, body)
				return
			}
			id = &identity{key: key, cert: e.parseCerts(reply{body: body})}
			client = e.keepAliveClient(id.tls())
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "renewals/s")
}

// BenchmarkLoginVerification measures certificate + password logins per second
// with the production argon2id parameters, 32 clients at once.
func BenchmarkLoginVerification(b *testing.B) {
	e := newEnv(b, func(c *Config) {
		c.Policy.Argon2 = lifecycle.DefaultArgon2
		// 32 clients queue for 2xCPU check slots: let them wait rather than answer 503.
		c.Limits.PasswordCheckWaitMS = 60_000
	})
	ids := benchIdentities(b, e, benchClients)
	var next atomic.Int64
	b.SetParallelism((benchClients + 1) / 2)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)-1) % len(ids)
		id := ids[i]
		s, _ := wire.SubjectOf(id.cert)
		body, _ := json.Marshal(wire.LoginRequest{Password: pw(s.LoginID)})
		client := e.keepAliveClient(id.tls())
		for pb.Next() {
			req, _ := http.NewRequest("POST", e.url+"/api/v1/login", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("login: %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}
