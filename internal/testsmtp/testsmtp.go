// Package testsmtp is a real SMTP server (go-smtp) on 127.0.0.1 for tests,
// which keeps the recipient and text of every message it receives.
package testsmtp

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message received: its recipient and its text (headers and body).
type Message struct {
	To   string
	Body string
}

// Server is the running SMTP server.
type Server struct {
	// Addr is the host:port it listens on, Port the port alone.
	Addr string
	Port int

	mu   sync.Mutex
	msgs []Message
}

// Start runs a Server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Close at the test's end
	t.Cleanup(func() { srv.Close() })
	s.Addr, s.Port = ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
	return s
}

// Messages returns every message received so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// To returns the texts of the messages sent to addr, in order.
func (s *Server) To(addr string) []string {
	var out []string
	for _, m := range s.Messages() {
		if m.To == addr {
			out = append(out, m.Body)
		}
	}
	return out
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{srv: s}, nil }

type session struct {
	srv *Server
	to  string
}

func (s *session) Reset()                                    {}
func (s *session) Logout() error                             { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *session) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.msgs = append(s.srv.msgs, Message{To: s.to, Body: string(body)})
	return nil
}
