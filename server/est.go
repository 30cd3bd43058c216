package server

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/smallstep/pkcs7"

	"github.com/inkan-dev/inkan/wire"
)

// estCACerts answers the CA certificates distribution request (RFC 7030 §4.1):
// the issuing and root CA certificates, base64 PKCS#7 certs-only.
func (s *Server) estCACerts(w http.ResponseWriter, r *http.Request) {
	s.writePKCS7(w, r, append(append([]byte{}, s.ca.Issuing.Raw...), s.ca.Root.Raw...))
}

// csrAttrs is the body of the anonymous CSR attributes answer (RFC 7030
// §4.5.2): the policy's key type and signature algorithm, and the roles whose
// keys may be backed up. The subject is the server's to set, so none is asked
// for. Open builds it once.
func csrAttrs(attrs wire.CSRAttrs) ([]byte, error) {
	der, err := wire.MarshalCSRAttrs(attrs)
	if err != nil {
		return nil, err
	}
	return base64Lines(der), nil
}

// estCSRAttrs answers the CSR attributes request (RFC 7030 §4.5). With HTTP
// Basic (a pickup asks so, before it makes the key) the password is checked
// like a pickup's and the answer names the ID's role too, so that the PC makes
// the key exportable only where the policy lets that role back up; an ID whose
// pickup simpleenroll would refuse for its window (pickup_lapsed,
// contract_blocked) is refused here with the same code, before the PC makes
// anything.
func (s *Server) estCSRAttrs(w http.ResponseWriter, r *http.Request) {
	body := s.csrAttrs
	if loginID, password, ok := r.BasicAuth(); ok {
		attrs, err := s.svc.CSRAttrsFor(r.Context(), r.RemoteAddr, loginID, password)
		if err != nil {
			s.failEST(w, r, err)
			return
		}
		if body, err = csrAttrs(attrs); err != nil {
			s.failEST(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", "application/csrattrs")
	w.Header().Set("Content-Transfer-Encoding", "base64")
	w.Write(body)
}

// estSimpleEnroll is pickup (取得, RFC 7030 §4.2.1): HTTP Basic with the login
// ID and password, a base64 PKCS#10 body, inside the pickup window.
func (s *Server) estSimpleEnroll(w http.ResponseWriter, r *http.Request) {
	csr, err := s.readCSR(w, r)
	if err != nil {
		s.failEST(w, r, err)
		return
	}
	loginID, password, ok := r.BasicAuth()
	if !ok {
		s.failEST(w, r, refuse(wire.CodeInvalidCredentials, "log in with HTTP Basic authentication: your login ID and login password"))
		return
	}
	cert, err := s.svc.Pickup(r.Context(), r.RemoteAddr, loginID, password, csr)
	if err != nil {
		s.failEST(w, r, err)
		return
	}
	s.writePKCS7(w, r, cert.Raw)
}

// estSimpleReenroll is renewal (更新, RFC 7030 §4.2.2): the TLS client
// certificate is the ID's current certificate, the CSR carries a new key.
func (s *Server) estSimpleReenroll(w http.ResponseWriter, r *http.Request) {
	csr, err := s.readCSR(w, r)
	if err != nil {
		s.failEST(w, r, err)
		return
	}
	current := clientCert(r)
	if current == nil {
		s.failEST(w, r, refuse(wire.CodeClientCertRequired, "renewal needs your current certificate as the TLS client certificate"))
		return
	}
	cert, err := s.svc.Renew(r.Context(), r.RemoteAddr, current, csr)
	if err != nil {
		s.failEST(w, r, err)
		return
	}
	s.writePKCS7(w, r, cert.Raw)
}

// readCSR reads the base64 DER PKCS#10 body of an enroll request (RFC 7030 §4.2.1).
func (s *Server) readCSR(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := s.readBody(w, r, "application/pkcs10")
	if err != nil {
		return nil, err
	}
	der, err := decodeBase64(body)
	if err != nil || len(der) == 0 {
		return nil, refuse(wire.CodeBadRequest, "the body is not base64: send the DER PKCS#10 CSR base64-encoded")
	}
	return der, nil
}

// decodeBase64 decodes standard base64, ignoring the line breaks and spaces
// that EST clients put in.
func decodeBase64(b []byte) ([]byte, error) {
	clean := bytes.Map(func(r rune) rune {
		switch r {
		case '\r', '\n', ' ', '\t':
			return -1
		}
		return r
	}, b)
	return base64.StdEncoding.DecodeString(string(clean))
}

// base64Lines encodes der as base64 in lines of 64 characters, ended by LF
// (not CRLF: base64 -d of coreutils, a common EST client tool, rejects CR).
func base64Lines(der []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(der)
	var b bytes.Buffer
	for len(enc) > 64 {
		b.WriteString(enc[:64])
		b.WriteString("\n")
		enc = enc[64:]
	}
	b.WriteString(enc)
	b.WriteString("\n")
	return b.Bytes()
}

// writePKCS7 answers certs (concatenated DER) as a base64 certs-only PKCS#7 (RFC 7030 §4.1.3, §4.2.3).
func (s *Server) writePKCS7(w http.ResponseWriter, r *http.Request, certs []byte) {
	p7, err := pkcs7.DegenerateCertificate(certs)
	if err != nil {
		s.failEST(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pkcs7-mime; smime-type=certs-only")
	w.Header().Set("Content-Transfer-Encoding", "base64")
	w.Write(base64Lines(p7))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
