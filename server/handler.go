package server

import (
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/inkan-dev/inkan/wire"
)

// Handler returns the server's HTTP routes (to be served over TLS: the client
// certificate is read from r.TLS).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	// EST, RFC 7030 §3.2.2.
	mux.HandleFunc("GET /.well-known/est/cacerts", s.estCACerts)
	mux.HandleFunc("GET /.well-known/est/csrattrs", s.limitPasswords(s.estCSRAttrs, s.failEST))
	mux.HandleFunc("POST /.well-known/est/simpleenroll", s.limitPasswords(s.estSimpleEnroll, s.failEST))
	mux.HandleFunc("POST /.well-known/est/simplereenroll", s.estSimpleReenroll)
	// JSON API.
	mux.HandleFunc("POST /api/v1/login", s.limitPasswords(s.apiLogin, s.failJSON))
	mux.HandleFunc("POST /api/v1/logout", s.apiLogout)
	mux.HandleFunc("POST /api/v1/password", s.limitPasswords(s.apiChangePassword, s.failJSON))
	mux.HandleFunc("GET /api/v1/policy", s.apiPolicy)
	mux.HandleFunc("GET /api/v1/users", s.apiListUsers)
	mux.HandleFunc("POST /api/v1/users", s.apiCreateUser)
	mux.HandleFunc("DELETE /api/v1/users/{loginID}", s.apiDeleteUser)
	mux.HandleFunc("POST /api/v1/users/{loginID}/certificate", s.apiIssue)
	mux.HandleFunc("POST /api/v1/users/{loginID}/certificate/revoke", s.apiRevoke)
	mux.HandleFunc("POST /api/v1/users/{loginID}/certificate/reissue", s.apiReissue)
	mux.HandleFunc("POST /api/v1/users/{loginID}/unlock", s.apiUnlock)
	mux.HandleFunc("POST /api/v1/users/{loginID}/password", s.apiSetPassword)
	mux.HandleFunc("/api/v1/", s.apiNotFound)
	// The bank's browser login.
	mux.Handle("/web/", s.web)
	mux.Handle("GET /{$}", http.RedirectHandler("/web/", http.StatusSeeOther))
	// Verification for relying parties, also on the plain-HTTP listener.
	s.revocationRoutes(mux)
	return s.recoverPanics(securityHeaders(s.ocspGetFirst(mux)))
}

// securityHeaders sets, on every answer: HSTS, since this server speaks HTTPS
// only and a browser that reached it once must never be talked into plain
// HTTP; nosniff, so that no browser reads a JSON or base64 answer as HTML or
// script; and Cache-Control: no-store, so that no cache (a proxy, the browser's
// disk) keeps a session token, a user list or a certificate answer. A handler
// whose answer is public and cacheable (the CRL) sets its own Cache-Control.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Strict-Transport-Security", "max-age=31536000")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// clientCert is the TLS client certificate of r, unverified (see the package doc), or nil.
func clientCert(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}

// readBody reads r's body after checking its media type, within the size limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, mediaType string) ([]byte, error) {
	got, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || got != mediaType {
		return nil, refuse(wire.CodeUnsupportedMedia, "send the body with Content-Type "+mediaType)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, refuse(wire.CodeTooLarge, "the body is over the size limit of "+itoa(s.cfg.MaxBodyBytes)+" bytes")
	}
	if err != nil {
		return nil, refuse(wire.CodeBadRequest, "the body could not be read: send it again")
	}
	return body, nil
}
