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

// refuse builds a refusal of the request itself (bad input), with a message
// that says what to do.
func refuse(code wire.Code, msg string) error { return &lifecycle.RuleError{Code: code, Message: msg} }

// classify is the one place errors become a wire code, an HTTP status and the
// message the caller sees. Refusals by a rule carry their code; anything else
// is a fault of the server, logged and answered 500 without details.
func (s *Server) classify(r *http.Request, err error) (wire.Code, int, string) {
	var re *lifecycle.RuleError
	if errors.As(err, &re) {
		return re.Code, re.Code.Status(), re.Message
	}
	s.log.Error("request failed", "method", r.Method, "path", logPath(r), "remote", r.RemoteAddr, "err", err)
	return wire.CodeInternal, wire.CodeInternal.Status(), "a fault on the server: contact the bank"
}

// statusClientClosedRequest is what a request is "answered" when its client
// hung up before the answer (the status nginx logs as 499): nobody reads it,
// and it is no fault of the server's.
const statusClientClosedRequest = 499

// clientHungUp handles err when it only says that r's client went away (its
// context was cancelled): an INFO line and a 499, not an ERROR and a 500. It
// reports whether it did.
func (s *Server) clientHungUp(w http.ResponseWriter, r *http.Request, err error) bool {
	if !errors.Is(err, context.Canceled) || r.Context().Err() == nil {
		return false
	}
	s.log.Info("client hung up", "method", r.Method, "path", logPath(r), "remote", r.RemoteAddr)
	w.WriteHeader(statusClientClosedRequest)
	return true
}

// logPath is r's path for the log, with a {loginID} segment that does not
// have the syntax of a login ID replaced by its lifecycle.LogID.
func logPath(r *http.Request) string {
	id := r.PathValue("loginID")
	if id == "" {
		return r.URL.Path
	}
	return strings.Replace(r.URL.Path, "/"+id, "/"+lifecycle.LogID(id), 1)
}

// failJSON answers an /api/v1 request with a wire.Error body.
func (s *Server) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	if s.clientHungUp(w, r, err) {
		return
	}
	code, status, msg := s.classify(r, err)
	if code != wire.CodeInternal {
		s.log.Info("refused", "method", r.Method, "path", logPath(r), "remote", r.RemoteAddr, "code", code, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="inkan"`)
	}
	setRefusalHeaders(w, code)
	writeJSON(w, status, wire.Error{Code: code, Message: msg})
}

// failEST answers an EST request (RFC 7030 §4.2.3: a human-readable text/plain
// body), with the code in the wire.CodeHeader header for the agent.
func (s *Server) failEST(w http.ResponseWriter, r *http.Request, err error) {
	if s.clientHungUp(w, r, err) {
		return
	}
	code, status, msg := s.classify(r, err)
	if code != wire.CodeInternal {
		s.log.Info("EST refused", "path", r.URL.Path, "remote", r.RemoteAddr, "code", code, "err", err)
	}
	if status == http.StatusUnauthorized && code == wire.CodeInvalidCredentials {
		w.Header().Set("WWW-Authenticate", `Basic realm="inkan", charset="UTF-8"`)
	}
	setRefusalHeaders(w, code)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(msg + " (" + string(code) + ")\n"))
}

// setRefusalHeaders puts the code in the wire.CodeHeader header (JSON answers
// carry it in the body too) and tells a busy client when to come back.
func setRefusalHeaders(w http.ResponseWriter, code wire.Code) {
	w.Header().Set(wire.CodeHeader, string(code))
	if code == wire.CodeUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// recoverPanics turns a panic in a handler into a logged 500, never a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "path", r.URL.Path, "panic", v)
				writeJSON(w, http.StatusInternalServerError, wire.Error{Code: wire.CodeInternal, Message: "a fault on the server: contact the bank"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
