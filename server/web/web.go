package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

// Service is what the pages need of the life-cycle rules; *lifecycle.Service is one.
type Service interface {
	CertificateOwner(ctx context.Context, cert *x509.Certificate) (string, error)
	Login(ctx context.Context, remoteAddr string, cert *x509.Certificate, loginID, password string) (lifecycle.LoginResult, error)
	SessionUser(ctx context.Context, remoteAddr, token string, cert *x509.Certificate) (lifecycle.SessionUser, error)
	Logout(ctx context.Context, token string) error
}

// Cookie names. The __Host- prefix makes browsers insist on Secure, Path=/ and no Domain.
const (
	SessionCookie  = "__Host-inkan_session"
	CSRFCookie     = "__Host-inkan_csrf"
	LanguageCookie = "__Host-inkan_lang"
)

// Options are the bank's details and the server's hooks.
type Options struct {
	BankName, BankCode string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger logs faults; nil discards.
	Logger *slog.Logger
	// LimitLogin wraps the password POST with the server's limit of wrong
	// passwords per address (the JSON login's); nil means none. It charges a
	// wrong password when the answer's wire.CodeHeader says invalid_credentials,
	// and answers a refusal through fail.
	LimitLogin func(next http.HandlerFunc, fail func(http.ResponseWriter, *http.Request, error)) http.HandlerFunc
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"date": func(t *time.Time, lang string) string {
		if t == nil {
			return ""
		}
		jst := t.In(tokyo)
		if lang == "en" {
			return jst.Format("2 Jan 2006 15:04 JST")
		}
		return jst.Format("2006年1月2日 15:04")
	},
}).ParseFS(templateFS, "templates/*.html"))

// tokyo is the bank's time zone, for the dates the pages show; a fixed +9:00
// when the system has no zone database.
var tokyo = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return l
	}
	return time.FixedZone("JST", 9*3600)
}()

// Handler serves the pages under /web/.
type Handler struct {
	svc  Service
	opts Options
	log  *slog.Logger
	mux  http.Handler
}

// New returns the pages on svc.
func New(svc Service, opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.LimitLogin == nil {
		opts.LimitLogin = func(next http.HandlerFunc, _ func(http.ResponseWriter, *http.Request, error)) http.HandlerFunc {
			return next
		}
	}
	h := &Handler{svc: svc, opts: opts, log: opts.Logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /web/{$}", h.loginPage)
	mux.HandleFunc("GET /web/certificate", h.passwordPage)
	mux.HandleFunc("POST /web/login", opts.LimitLogin(h.login, h.fail))
	mux.HandleFunc("GET /web/home", h.home)
	mux.HandleFunc("POST /web/logout", h.logout)
	mux.HandleFunc("GET /web/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(styleCSS)
	})
	mux.HandleFunc("/web/", func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusNotFound, "error", h.page(r, pageData{Message: h.words(r).NotFound}))
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusForbidden, "error", h.page(r, pageData{Message: h.words(r).Forged}))
	}))
	h.mux = cop.Handler(mux)
	return h
}

// ServeHTTP sets the security headers and serves the page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-store")
	if l := r.URL.Query().Get("lang"); l == "ja" || l == "en" {
		http.SetCookie(w, &http.Cookie{Name: LanguageCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	h.mux.ServeHTTP(w, r)
}

// pageData is what every template gets.
type pageData struct {
	Lang, OtherLang, Path string
	T                     words
	BankName, BankCode    string
	CSRF                  string
	// Message is a refusal or a fault, with its code.
	Message string
	Code    wire.Code
	Info    string
	// The password page.
	LoginID string
	// The ログイン中 page.
	User          wire.User
	RoleName      string
	PreviousLogin *time.Time
	Notices       []wire.Notice
}

func (h *Handler) page(r *http.Request, d pageData) pageData {
	d.Lang = lang(r)
	d.OtherLang = "en"
	if d.Lang == "en" {
		d.OtherLang = "ja"
	}
	d.Path = r.URL.Path
	d.T = h.words(r)
	d.BankName, d.BankCode = h.opts.BankName, h.opts.BankCode
	return d
}

func (h *Handler) words(r *http.Request) words {
	if lang(r) == "en" {
		return english
	}
	return japanese
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", d.Lang)
	if d.Code != "" {
		w.Header().Set(wire.CodeHeader, string(d.Code))
	}
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name+".html", d); err != nil {
		h.log.Error("render page", "page", name, "err", err)
	}
}

// fail shows err as a page: a refusal by a rule with its code, status and
// message; anything else as a fault, logged.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, status := wire.CodeInternal, http.StatusInternalServerError
	var re *lifecycle.RuleError
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The browser went away before the answer: no fault of the server's,
		// and nobody reads the page (499, as the JSON API answers).
		h.log.Info("client hung up", "path", r.URL.Path, "remote", r.RemoteAddr)
		w.WriteHeader(499)
		return
	}
	if errors.As(err, &re) {
		code, status = re.Code, re.Code.Status()
		h.log.Info("page refused", "path", r.URL.Path, "remote", r.RemoteAddr, "code", code, "err", err)
	} else {
		h.log.Error("page failed", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
	}
	if code == wire.CodeRateLimited && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "60")
	}
	d := h.page(r, pageData{Message: code.Message(lang(r)), Code: code})
	if certificateProblem(code) {
		d.Info = d.T.ChooseAgain
	}
	h.render(w, r, status, "error", d)
}

// certificateProblem reports whether code means the browser presented no
// certificate or the wrong one, so that the page says how to choose again.
func certificateProblem(code wire.Code) bool {
	switch code {
	case wire.CodeClientCertRequired, wire.CodeUnknownIssuer, wire.CodeCertificateRevoked,
		wire.CodeCertificateReplaced, wire.CodeCertificateExpired:
		return true
	}
	return false
}

// loginPage is the bank's login page with the 「電子証明書ログイン」 button.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	d := h.page(r, pageData{})
	if r.URL.Query().Get("out") == "1" {
		d.Info = d.T.LoggedOut
	}
	h.render(w, r, http.StatusOK, "login", d)
}

// passwordPage names the ID of the presented certificate and asks for its password.
func (h *Handler) passwordPage(w http.ResponseWriter, r *http.Request) {
	loginID, err := h.svc.CertificateOwner(r.Context(), clientCert(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showPasswordForm(w, r, http.StatusOK, loginID, "", "")
}

func (h *Handler) showPasswordForm(w http.ResponseWriter, r *http.Request, status int, loginID string, code wire.Code, msg string) {
	token, err := h.csrfToken(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, status, "password", h.page(r, pageData{LoginID: loginID, CSRF: token, Code: code, Message: msg}))
}

// login checks the certificate and the password and opens a session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !h.checkCSRF(w, r) {
		return
	}
	cert := clientCert(r)
	res, err := h.svc.Login(r.Context(), r.RemoteAddr, cert, "", r.PostFormValue("password"))
	var re *lifecycle.RuleError
	if errors.As(err, &re) && re.Code == wire.CodeInvalidCredentials {
		// Only a wrong password is worth another try on the same page.
		loginID, oerr := h.svc.CertificateOwner(r.Context(), cert)
		if oerr == nil {
			h.showPasswordForm(w, r, re.Code.Status(), loginID, re.Code, re.Code.Message(lang(r)))
			return
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: res.Token, Path: "/", Expires: res.ExpiresAt,
		MaxAge: max(1, int(res.ExpiresAt.Sub(h.opts.Now()).Seconds())), Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/web/home", http.StatusSeeOther)
}

// home is the ログイン中 page. A session its certificate no longer allows
// (revoked, replaced, another certificate presented) ends here and now.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		http.Redirect(w, r, "/web/", http.StatusSeeOther)
		return
	}
	su, err := h.svc.SessionUser(r.Context(), r.RemoteAddr, c.Value, clientCert(r))
	if err != nil {
		h.endSession(w)
		h.fail(w, r, err)
		return
	}
	token, err := h.csrfToken(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := h.page(r, pageData{User: su.User, Notices: su.Notices, CSRF: token, PreviousLogin: su.PreviousLoginAt})
	d.RoleName = d.T.Roles[su.User.Role]
	h.render(w, r, http.StatusOK, "home", d)
}

// logout ends the session and goes back to the login page.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if !h.checkCSRF(w, r) {
		return
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := h.svc.Logout(r.Context(), c.Value); err != nil && !errors.Is(err, lifecycle.ErrUnauthenticated) {
			h.log.Error("log out", "err", err)
		}
		h.endSession(w)
	}
	http.Redirect(w, r, "/web/?out=1", http.StatusSeeOther)
}

// endSession clears the cookie.
func (h *Handler) endSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// csrfToken returns the request's CSRF token, setting a new cookie when it has none.
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(CSRFCookie); err == nil && len(c.Value) == 43 {
		return c.Value, nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: token, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return token, nil
}

// checkCSRF refuses a POST whose form token does not match its cookie.
func (h *Handler) checkCSRF(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	c, err := r.Cookie(CSRFCookie)
	form := r.PostFormValue("csrf")
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
		h.render(w, r, http.StatusForbidden, "error", h.page(r, pageData{Message: h.words(r).Forged}))
		return false
	}
	return true
}

// clientCert is the TLS client certificate of r, unverified (the rules check it), or nil.
func clientCert(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}
