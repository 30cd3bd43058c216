// Package web is the bank's browser login: the 電子証明書ログイン pages that staff
// open in Edge or Chrome, in Japanese first and in English by Accept-Language
// or the page's language switch.
//
// # How a login goes
//
//  1. GET /web/ is the bank's login page with the 「電子証明書ログイン」 button.
//     The browser has already been asked for a client certificate in the TLS
//     handshake; the server's CertificateRequest names the bank's issuing CA
//     (certificate_authorities), so the browser offers only this bank's
//     certificates.
//  2. GET /web/certificate names the ID of the certificate the browser
//     presented and asks for the ログインパスワード only.
//  3. POST /web/login checks certificate and password through the same
//     lifecycle code as the JSON login (POST /api/v1/login) and opens a session.
//  4. GET /web/home is the ログイン中 page: user, contract, role, the previous
//     login, 重要なお知らせ, ログアウト.
//
// Every refusal is the JSON API's wire code, shown as a page with the same
// message the agent shows (wire.Code.Message). No rule is written here: the
// package asks [Service] and renders what it answers.
//
// # Sessions and security
//
// The session cookie carries the lifecycle session token: Secure, HttpOnly,
// SameSite=Strict, expiring with the server-side session. Each page checks it
// with the certificate of the request (lifecycle.Service.SessionUser), so a
// session ends at once when its certificate is revoked or replaced. Forms carry
// a CSRF token that must match a __Host- cookie, and cross-origin POSTs are
// refused (net/http's CrossOriginProtection). Every answer has a CSP without
// script, HSTS, X-Frame-Options DENY, Referrer-Policy no-referrer and nosniff.
//
// # What it is not
//
// It knows no password, certificate or session rule of its own, and it has no
// script: the pages work with JavaScript off.
package web
