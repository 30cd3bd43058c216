package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

// decodeJSON reads a JSON body of type application/json into v.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := s.readBody(w, r, "application/json")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return refuse(wire.CodeBadRequest, "the body is not the JSON this call takes: "+err.Error())
	}
	return nil
}

// apiLogin is POST /api/v1/login: the TLS client certificate (if any) and the
// password in a wire.LoginRequest; answers a wire.LoginResponse.
func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var req wire.LoginRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.failJSON(w, r, err)
		return
	}
	res, err := s.svc.Login(r.Context(), r.RemoteAddr, clientCert(r), req.LoginID, req.Password)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.LoginResponse{Token: res.Token, ExpiresAt: res.ExpiresAt, User: res.User,
		Notices: res.Notices, CertificateMode: res.CertificateMode})
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// apiPolicy is GET /api/v1/policy: the bank's policy for agents (wire.Policy).
func (s *Server) apiPolicy(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, wire.Policy{AutoRenew: s.cfg.Policy.AutoRenew == nil || *s.cfg.Policy.AutoRenew,
		RenewBeforeDays: s.cfg.Policy.RenewBeforeDays, RenewAfterDays: s.cfg.Policy.RenewAfterDays})
}

// apiLogout is POST /api/v1/logout: ends the bearer token's session.
func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Logout(r.Context(), bearer(r)); err != nil {
		s.failJSON(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// caller authorizes an admin call: the bearer session (bound to the same TLS
// client certificate when it was opened with one).
func (s *Server) caller(w http.ResponseWriter, r *http.Request) (lifecycle.Actor, bool) {
	a, err := s.svc.Authorize(r.Context(), r.RemoteAddr, bearer(r), clientCert(r))
	if err != nil {
		s.failJSON(w, r, err)
		return lifecycle.Actor{}, false
	}
	return a, true
}

// apiListUsers is GET /api/v1/users: the caller's contract's IDs.
func (s *Server) apiListUsers(w http.ResponseWriter, r *http.Request) {
	a, ok := s.caller(w, r)
	if !ok {
		return
	}
	users, err := s.svc.ListUsers(r.Context(), a, a.ContractID)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.UserList{Users: users})
}

// apiCreateUser is POST /api/v1/users: a wire.CreateUserRequest; answers 201 and the wire.User.
func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request) {
	a, ok := s.caller(w, r)
	if !ok {
		return
	}
	var req wire.CreateUserRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.failJSON(w, r, err)
		return
	}
	if ok, wait := s.takenIDs.Allow(a.ContractID); !ok {
		w.Header().Set("Retry-After", retryAfterSeconds(wait))
		s.failJSON(w, r, refuse(wire.CodeRateLimited, "too many of the login IDs you chose were taken: wait "+retryAfterSeconds(wait)+" seconds, then choose another"))
		return
	}
	err := s.svc.CreateUser(r.Context(), a, lifecycle.NewUser{LoginID: req.LoginID, Role: req.Role,
		DisplayName: req.DisplayName, Email: req.Email, Password: req.Password, IssueCertificate: req.IssueCertificate})
	if errors.Is(err, lifecycle.ErrAlreadyExists) {
		s.takenIDs.Charge(a.ContractID)
	}
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	s.writeUser(w, r, a, req.LoginID, http.StatusCreated)
}

func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, a lifecycle.Actor, loginID string, status int) {
	u, err := s.svc.User(r.Context(), a, loginID)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	writeJSON(w, status, u)
}

// apiDeleteUser is DELETE /api/v1/users/{loginID}: deletes the ID and revokes its certificate.
func (s *Server) apiDeleteUser(w http.ResponseWriter, r *http.Request) {
	a, ok := s.caller(w, r)
	if !ok {
		return
	}
	if err := s.svc.DeleteUser(r.Context(), a, r.PathValue("loginID")); err != nil {
		s.failJSON(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// certAction serves the calls on one user (/api/v1/users/{loginID}/certificate…,
// /unlock): each runs act and answers the user's new state.
func (s *Server) certAction(w http.ResponseWriter, r *http.Request, act func(context.Context, lifecycle.Actor, string) error) {
	a, ok := s.caller(w, r)
	if !ok {
		return
	}
	loginID := r.PathValue("loginID")
	if err := act(r.Context(), a, loginID); err != nil {
		s.failJSON(w, r, err)
		return
	}
	s.writeUser(w, r, a, loginID, http.StatusOK)
}

// apiIssue is POST /api/v1/users/{loginID}/certificate: opens a pickup window.
func (s *Server) apiIssue(w http.ResponseWriter, r *http.Request) { s.certAction(w, r, s.svc.Issue) }

// apiRevoke is POST /api/v1/users/{loginID}/certificate/revoke.
func (s *Server) apiRevoke(w http.ResponseWriter, r *http.Request) { s.certAction(w, r, s.svc.Revoke) }

// apiReissue is POST /api/v1/users/{loginID}/certificate/reissue.
func (s *Server) apiReissue(w http.ResponseWriter, r *http.Request) {
	s.certAction(w, r, s.svc.Reissue)
}

// apiUnlock is POST /api/v1/users/{loginID}/unlock: an admin unlocks an
// approver or general ID of its contract.
func (s *Server) apiUnlock(w http.ResponseWriter, r *http.Request) { s.certAction(w, r, s.svc.Unlock) }

// apiSetPassword is POST /api/v1/users/{loginID}/password: a
// wire.SetPasswordRequest; an admin resets the login password of an approver
// or general ID of its contract, which also unlocks it and ends its sessions.
// The caller is authorized before the body is read, so that nobody without a
// session learns anything from the answer.
func (s *Server) apiSetPassword(w http.ResponseWriter, r *http.Request) {
	a, ok := s.caller(w, r)
	if !ok {
		return
	}
	var req wire.SetPasswordRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.failJSON(w, r, err)
		return
	}
	loginID := r.PathValue("loginID")
	if err := s.svc.SetPassword(r.Context(), a, loginID, req.Password); err != nil {
		s.failJSON(w, r, err)
		return
	}
	s.writeUser(w, r, a, loginID, http.StatusOK)
}

// apiChangePassword is POST /api/v1/password: a wire.ChangePasswordRequest;
// the caller changes its own login password (any role), which ends every
// session of the ID, the caller's included (204). The caller is authorized
// before the body is read.
func (s *Server) apiChangePassword(w http.ResponseWriter, r *http.Request) {
	a, ok := s.caller(w, r)
	if !ok {
		return
	}
	var req wire.ChangePasswordRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.failJSON(w, r, err)
		return
	}
	if err := s.svc.ChangePassword(r.Context(), a, req.CurrentPassword, req.NewPassword); err != nil {
		s.failJSON(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiNotFound answers unknown /api/v1 routes with a coded JSON error.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	s.failJSON(w, r, refuse(wire.CodeBadRequest, "no such API call: see docs/server.md for the routes"))
}
