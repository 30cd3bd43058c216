package server

import (
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/crypto/ocsp"
)

// crl is GET /crl: the DER CRL of the issuing CA. It is signed again as soon
// as the records change (a revocation by the API or the CLI shows at once) and
// cached in between (see lifecycle.Service.CRL).
func (s *Server) crl(w http.ResponseWriter, r *http.Request) {
	der, err := s.svc.CRL(r.Context())
	if err != nil && s.clientHungUp(w, r, err) {
		return
	}
	if err != nil {
		http.Error(w, "the CRL could not be built", http.StatusInternalServerError)
		s.log.Error("build CRL", "err", err)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(der)
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
	s.ocspAnswer(w, r, der)
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
	s.ocspAnswer(w, r, der)
}

// ocspAnswer answers good, revoked or unknown for a request about a certificate
// of this CA; a request about another CA gets the "unauthorized" error response.
func (s *Server) ocspAnswer(w http.ResponseWriter, r *http.Request, der []byte) {
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		s.ocspFail(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	if !s.ca.IssuedByUs(req) {
		s.ocspFail(w, ocsp.UnauthorizedErrorResponse)
		return
	}
	st, err := s.svc.OCSPStatus(r.Context(), req.SerialNumber)
	if err != nil && s.clientHungUp(w, r, err) {
		return
	}
	if err != nil {
		s.log.Error("OCSP status", "err", err)
		s.ocspFail(w, ocsp.InternalErrorErrorResponse)
		return
	}
	resp, err := s.ca.OCSPResponse(req, st, s.svc.Now())
	if err != nil {
		s.log.Error("OCSP response", "err", err)
		s.ocspFail(w, ocsp.InternalErrorErrorResponse)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

// ocspFail sends one of the unsigned OCSP error responses (RFC 6960 §2.3), which
// travel with status 200 as the RFC's HTTP binding has it.
func (s *Server) ocspFail(w http.ResponseWriter, resp []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

// caCert serves the root or issuing CA certificate in DER (the AIA caIssuers target).
func (s *Server) caCert(root bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cert := s.ca.Issuing
		if root {
			cert = s.ca.Root
		}
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Write(cert.Raw)
	}
}
