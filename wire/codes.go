package wire

import "net/http"

// Code names why the server refused a request. Codes are stable: the agent's
// messages are keyed by them.
type Code string

// The error codes. Their statuses are in [Codes].
const (
	CodeBadRequest          Code = "bad_request"            // malformed body, base64, DER, JSON or parameter
	CodeBadCSR              Code = "bad_csr"                // the CSR does not parse or its self-signature is wrong
	CodeKeyNotAllowed       Code = "key_not_allowed"        // key type or size outside ECDSA P-256/P-384, RSA 2048–4096
	CodeUnsupportedMedia    Code = "unsupported_media_type" // wrong Content-Type
	CodeTooLarge            Code = "too_large"              // body over the size limit
	CodeInvalidCredentials  Code = "invalid_credentials"    // unknown ID or wrong password: the two answer alike
	CodeLocked              Code = "locked"                 // too many wrong passwords; an admin or the operator unlocks
	CodeUnauthenticated     Code = "unauthenticated"        // no session, or it expired: log in again
	CodeCertificateRequired Code = "certificate_required"   // the contract is in certificate mode: log in with the certificate
	CodeClientCertRequired  Code = "client_certificate_required"
	CodeUnknownIssuer       Code = "unknown_issuer"           // the client certificate is not from this bank's CA
	CodeCertificateRevoked  Code = "certificate_revoked"      // 失効: the certificate was revoked
	CodeCertificateExpired  Code = "certificate_expired"      // past validity (renewal may still be possible)
	CodeCertificateReplaced Code = "certificate_superseded"   // not the ID's current certificate (renewed or reissued since)
	CodeNoPickupOpen        Code = "pickup_not_open"          // no certificate is waiting to be picked up for this ID
	CodeNoCertificate       Code = "no_certificate"           // the ID has no certificate to revoke: nothing was issued, or it is already revoked
	CodePickupLapsed        Code = "pickup_lapsed"            // the 80-day pickup window passed: ask for 再発行
	CodeContractBlocked     Code = "contract_blocked"         // the admin's pickup window lapsed: the bank must reissue the admin certificate
	CodeNotRenewableYet     Code = "not_renewable_yet"        // too early to renew
	CodeRenewalWindowClosed Code = "renewal_window_closed"    // too late to renew: ask for 再発行
	CodeRenewalNeedsNewKey  Code = "renewal_requires_new_key" // the renewal CSR reuses the current key
	CodeForbidden           Code = "forbidden"                // the caller's role may not do this
	CodeNotFound            Code = "not_found"                // no such user in the caller's contract
	CodeAlreadyExists       Code = "already_exists"           // the login ID is taken
	CodeWeakPassword        Code = "weak_password"            // the new password breaks the password policy
	CodeRateLimited         Code = "rate_limited"             // slow down and try again
	CodeUnavailable         Code = "unavailable"              // the server is shutting down or overloaded: try again later
	CodeInternal            Code = "internal"                 // a fault on the server: contact the bank
)

// CodeInfo documents one error code.
type CodeInfo struct {
	Code    Code
	Status  int
	Meaning string
}

// Codes is the one table of error codes: each code, the HTTP status it travels
// with, and what it means. The server maps errors to statuses through it.
var Codes = []CodeInfo{
	{CodeBadRequest, http.StatusBadRequest, "the request is malformed: fix the body or parameters"},
	{CodeBadCSR, http.StatusBadRequest, "the CSR does not parse or its signature does not verify"},
	{CodeKeyNotAllowed, http.StatusBadRequest, "the key is not ECDSA P-256/P-384 or RSA 2048-4096"},
	{CodeUnsupportedMedia, http.StatusUnsupportedMediaType, "send the Content-Type the endpoint documents"},
	{CodeTooLarge, http.StatusRequestEntityTooLarge, "the body is over the size limit"},
	{CodeInvalidCredentials, http.StatusUnauthorized, "unknown login ID or wrong password"},
	{CodeLocked, http.StatusForbidden, "locked after too many wrong passwords: ask the admin or the bank to unlock"},
	{CodeUnauthenticated, http.StatusUnauthorized, "no valid session: log in again"},
	{CodeCertificateRequired, http.StatusForbidden, "the contract uses certificate login: log in with the certificate"},
	{CodeClientCertRequired, http.StatusUnauthorized, "this call needs a TLS client certificate"},
	{CodeUnknownIssuer, http.StatusUnauthorized, "the client certificate was not issued by this bank"},
	{CodeCertificateRevoked, http.StatusForbidden, "the certificate was revoked: ask for a reissue"},
	{CodeCertificateExpired, http.StatusForbidden, "the certificate expired: renew it, or ask for a reissue"},
	{CodeCertificateReplaced, http.StatusForbidden, "the certificate was replaced by a newer one: use the newer one"},
	{CodeNoPickupOpen, http.StatusForbidden, "no certificate is waiting to be picked up for this ID"},
	{CodeNoCertificate, http.StatusConflict, "the ID has no issued or active certificate to act on"},
	{CodePickupLapsed, http.StatusForbidden, "the pickup window passed: ask for a reissue"},
	{CodeContractBlocked, http.StatusForbidden, "the admin certificate's pickup window passed: the bank must reissue it"},
	{CodeNotRenewableYet, http.StatusForbidden, "renewal opens 30 days before expiry"},
	{CodeRenewalWindowClosed, http.StatusForbidden, "the renewal window closed: ask for a reissue"},
	{CodeRenewalNeedsNewKey, http.StatusBadRequest, "renewal needs a new key pair"},
	{CodeForbidden, http.StatusForbidden, "the caller's role may not do this"},
	{CodeNotFound, http.StatusNotFound, "no such user in the caller's contract"},
	{CodeAlreadyExists, http.StatusConflict, "the login ID is taken"},
	{CodeWeakPassword, http.StatusBadRequest, "the password breaks the password policy"},
	{CodeRateLimited, http.StatusTooManyRequests, "too many requests: wait and try again"},
	{CodeUnavailable, http.StatusServiceUnavailable, "the server is busy or shutting down: try again later"},
	{CodeInternal, http.StatusInternalServerError, "a fault on the server: contact the bank"},
}

// Status returns the HTTP status that c travels with, or 500 for an unknown code.
func (c Code) Status() int {
	for _, info := range Codes {
		if info.Code == c {
			return info.Status
		}
	}
	return http.StatusInternalServerError
}
