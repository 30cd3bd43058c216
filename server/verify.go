package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/inkan-dev/inkan/server/ca"
)

// revocationRoutes are what relying parties fetch, on the plain-HTTP listener
// and on the HTTPS one alike: CRLs, OCSP and the CA certificates (AIA caIssuers).
func (s *Server) revocationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /crl", s.legacyCRL)
	mux.HandleFunc("GET /crl/{file}", s.crl)
	mux.HandleFunc("POST /ocsp", s.ocspPost)
	mux.HandleFunc("GET /ca/{file}", s.caCert)
}

// RevocationHandler is the plain-HTTP listener's handler: only the revocation
// routes, nothing that takes a password or a certificate.
func (s *Server) RevocationHandler() http.Handler {
	mux := http.NewServeMux()
	s.revocationRoutes(mux)
	return s.recoverPanics(s.ocspGetFirst(mux))
}

// ocspGetFirst sends OCSP GETs past the mux: their base64 may hold "//", which
// the mux would clean and redirect (RFC 6960 A.1).
func (s *Server) ocspGetFirst(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.EscapedPath(), ocspGetPrefix) {
			s.ocspGet(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// crl is GET /crl/root.crl (the root CRL the bank signs offline, read from
// DATA/root.crl at each request) and GET /crl/ID.crl (the CRL of issuing CA ID,
// current or retired: signed again as soon as the records change, cached in
// between, see lifecycle.Service.CRL).
func (s *Server) crl(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if file == ca.RootCRLFile {
		der, err := os.ReadFile(s.dir + "/" + ca.RootCRLFile)
		if err != nil {
			s.log.Error("read the root CRL", "err", err)
			http.Error(w, "the root CRL is not published: the bank signs one with inkan-server ca root-crl", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(der)
		return
	}
	iss := s.ca.Issuer(strings.TrimSuffix(file, ".crl"))
	if iss == nil || !strings.HasSuffix(file, ".crl") {
		http.NotFound(w, r)
		return
	}
	s.writeCRL(w, r, iss)
}

// legacyCRL is GET /crl, where certificates issued before per-CA CRLs point:
// the current issuing CA's CRL.
func (s *Server) legacyCRL(w http.ResponseWriter, r *http.Request) { s.writeCRL(w, r, s.ca.Current()) }

func (s *Server) writeCRL(w http.ResponseWriter, r *http.Request, iss *ca.Issuer) {
	der, err := s.svc.CRL(r.Context(), iss)
	if err != nil && s.clientHungUp(w, r, err) {
		return
	}
	if err != nil {
		http.Error(w, "the CRL could not be built", http.StatusInternalServerError)
		s.log.Error("build CRL", "issuer", iss.ID(), "err", err)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(der)
}

// caCert serves a CA certificate in DER (the AIA caIssuers target):
// /ca/root.crt, /ca/ID.crt for an issuing CA, and /ca/issuing.crt (the current
// one, where certificates issued before per-CA URLs point).
func (s *Server) caCert(w http.ResponseWriter, r *http.Request) {
	var raw []byte
	switch file := r.PathValue("file"); file {
	case "root.crt":
		raw = s.ca.Root.Raw
	case "issuing.crt":
		raw = s.ca.Issuing.Raw
	default:
		iss := s.ca.Issuer(strings.TrimSuffix(file, ".crt"))
		if iss == nil || !strings.HasSuffix(file, ".crt") {
			http.NotFound(w, r)
			return
		}
		raw = iss.Cert.Raw
	}
	w.Header().Set("Content-Type", "application/pkix-cert")
	w.Header().Set("Cache-Control", "max-age=86400")
	w.Write(raw)
}

// ocspGetPrefix starts the path of an OCSP GET request.
const ocspGetPrefix = "/ocsp/"

// ocspGet is GET /ocsp/{url-encoded base64 request} (RFC 6960 appendix A.1),
// read from the raw path: the request may hold "//" and must not be cleaned.
func (s *Server) ocspGet(w http.ResponseWriter, r *http.Request) {
	raw, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), ocspGetPrefix))
	if err != nil {
		s.ocspFail(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	der, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		s.ocspFail(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	s.ocspAnswer(w, r, der, true)
}

// ocspPost is POST /ocsp with an application/ocsp-request body (RFC 6960 appendix A.1).
func (s *Server) ocspPost(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/ocsp-request" {
		s.ocspFail(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	der, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		s.ocspFail(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	s.ocspAnswer(w, r, der, false)
}

// ocspAnswer answers good, revoked or unknown for a request about a certificate
// of one of this bank's issuing CAs (current or retired); a request about
// another CA gets the "unauthorized" error response. A GET answer carries the
// RFC 5019 §6 caching headers and is the same bytes for every GET until the
// status changes or half its validity has passed, so caches can revalidate it;
// a POST answer is never to be cached.
func (s *Server) ocspAnswer(w http.ResponseWriter, r *http.Request, der []byte, get bool) {
	req, err := ca.ParseOCSPRequest(der)
	if err != nil {
		s.ocspFail(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	iss := s.ca.IssuerFor(req)
	if iss == nil {
		s.ocspFail(w, ocsp.UnauthorizedErrorResponse)
		return
	}
	st, err := s.svc.OCSPStatus(r.Context(), iss, req.SerialNumber)
	if err != nil && s.clientHungUp(w, r, err) {
		return
	}
	if err != nil {
		s.log.Error("OCSP status", "err", err)
		s.ocspFail(w, ocsp.InternalErrorErrorResponse)
		return
	}
	st = withIssuerRevoked(iss, st)
	now := s.svc.Now()
	key := ocspKey{issuer: iss.ID(), serial: string(req.SerialNumber.Bytes()), status: st}
	answer, ok := s.ocspCache.get(key, now)
	if !ok || req.Nonce != nil {
		resp, err := s.ca.OCSPResponse(iss, req, st, now)
		if err != nil {
			s.log.Error("OCSP response", "err", err)
			s.ocspFail(w, ocsp.InternalErrorErrorResponse)
			return
		}
		answer = newOCSPAnswer(resp, now)
		if req.Nonce == nil {
			s.ocspCache.put(key, answer)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/ocsp-response")
	if !get {
		h.Set("Cache-Control", "no-store")
		w.Write(answer.der)
		return
	}
	maxAge := int(answer.nextUpdate.Sub(now) / time.Second)
	h.Set("Cache-Control", "max-age="+strconv.Itoa(max(maxAge, 0))+", public, no-transform, must-revalidate")
	h.Set("Last-Modified", answer.producedAt.UTC().Format(http.TimeFormat))
	h.Set("Expires", answer.nextUpdate.UTC().Format(http.TimeFormat))
	h.Set("ETag", answer.etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, answer.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(answer.der)
}

// withIssuerRevoked is st for a certificate of iss: once iss is revoked in the
// root CRL, each of its certificates is revoked too (RFC 5280 §5.3.1:
// cACompromise when its key was compromised, else cessationOfOperation), from
// the issuer's revocation or the certificate's own, whichever came first.
func withIssuerRevoked(iss *ca.Issuer, st ca.OCSPStatus) ca.OCSPStatus {
	r := iss.Revoked
	if r == nil || st.Status == ocsp.Unknown {
		return st
	}
	reason := ocsp.CessationOfOperation
	if code := r.ReasonCode(); code == ca.ReasonKeyCompromise || code == ca.ReasonCACompromise {
		reason = ocsp.CACompromise
	}
	if st.Status == ocsp.Revoked && st.RevokedAt.Before(r.RevokedAt) {
		return st
	}
	return ca.OCSPStatus{Status: ocsp.Revoked, RevokedAt: r.RevokedAt, Reason: reason}
}

// ocspFail sends one of the unsigned OCSP error responses (RFC 6960 §2.3), which
// travel with status 200 as the RFC's HTTP binding has it. They are not cached.
func (s *Server) ocspFail(w http.ResponseWriter, resp []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(resp)
}

// ocspKey is what an OCSP answer depends on: the issuer, the serial and what
// the records say of it.
type ocspKey struct {
	issuer, serial string
	status         ca.OCSPStatus
}

// ocspAnswer is a signed OCSP response and the times its HTTP headers give.
type ocspAnswer struct {
	der                    []byte
	etag                   string
	producedAt, nextUpdate time.Time
}

func newOCSPAnswer(der []byte, now time.Time) ocspAnswer {
	sum := sha256.Sum256(der)
	produced := now.UTC().Truncate(time.Second)
	return ocspAnswer{der: der, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, producedAt: produced, nextUpdate: produced.Add(ca.OCSPValidity)}
}

// ocspCache keeps signed OCSP answers for half their validity. The key holds the
// status, so a revocation is answered at once; the map is emptied when it grows
// past maxOCSPCache, which bounds its memory.
type ocspCache struct {
	mu      sync.Mutex
	answers map[ocspKey]ocspAnswer
}

const maxOCSPCache = 10000

func (c *ocspCache) get(k ocspKey, now time.Time) (ocspAnswer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.answers[k]
	if !ok || now.Before(a.producedAt) || now.After(a.producedAt.Add(ca.OCSPValidity/2)) {
		return ocspAnswer{}, false
	}
	return a, true
}

func (c *ocspCache) put(k ocspKey, a ocspAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answers == nil || len(c.answers) >= maxOCSPCache {
		c.answers = map[ocspKey]ocspAnswer{}
	}
	c.answers[k] = a
}
