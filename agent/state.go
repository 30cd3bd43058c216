package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/inkan-dev/inkan/certstore"
)

// stateFile is what the agent remembers between runs, per certificate: when it was
// last used to log in from this PC, and whether the server last refused it as
// revoked; and per contract, whether the bank said it is in certificate mode.
// It is a small JSON file, rewritten whole and atomically.
type stateFile struct {
	path string
	mu   sync.Mutex
}

// certState is the remembered state of one certificate.
type certState struct {
	LastUsed    time.Time `json:"last_used,omitzero"`
	RevokedSeen time.Time `json:"revoked_seen,omitzero"`
}

// contractState is what the bank last answered of one contract that logged in
// from this PC: whether it is in certificate mode (電子証明書方式), and the
// login IDs of it that logged in here, so that a refusal naming no contract
// (certificate_required) can be placed.
type contractState struct {
	CertificateMode bool     `json:"certificate_mode"`
	LoginIDs        []string `json:"login_ids,omitempty"` // lower case
}

type stateData struct {
	Certificates map[certstore.Fingerprint]certState `json:"certificates"`
	// Contracts are keyed by contractKey: one state file serves every bank.
	Contracts map[string]contractState `json:"contracts,omitempty"`
}

// contractKey names a contract of a bank in the state file.
func contractKey(bankCode, contractID string) string { return bankCode + "/" + contractID }

// load reads the state; a missing file is an empty state.
func (s *stateFile) load() (stateData, error) {
	d := stateData{Certificates: map[certstore.Fingerprint]certState{}}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("read agent state: %w", err)
	}
	if err := json.Unmarshal(data, &d); err != nil {
		// A damaged state file costs only the "last used" order: start afresh.
		return stateData{Certificates: map[certstore.Fingerprint]certState{}}, nil
	}
	if d.Certificates == nil {
		d.Certificates = map[certstore.Fingerprint]certState{}
	}
	return d, nil
}

// update applies change to the certificates' state and writes it back atomically.
func (s *stateFile) update(change func(map[certstore.Fingerprint]certState)) error {
	return s.edit(func(d *stateData) { change(d.Certificates) })
}

// updateContracts applies change to the contracts' state and writes it back
// atomically.
func (s *stateFile) updateContracts(change func(map[string]contractState)) error {
	return s.edit(func(d *stateData) {
		if d.Contracts == nil {
			d.Contracts = map[string]contractState{}
		}
		change(d.Contracts)
	})
}

// edit applies change to the whole state and writes it back atomically.
func (s *stateFile) edit(change func(*stateData)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load()
	if err != nil {
		return err
	}
	change(&d)
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".state-*.json")
	if err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write agent state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write agent state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("write agent state: %w", err)
	}
	return nil
}

// snapshot returns the current state of the certificates for reading.
func (s *stateFile) snapshot() (map[certstore.Fingerprint]certState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load()
	return d.Certificates, err
}

// contracts returns the current state of the contracts for reading.
func (s *stateFile) contracts() (map[string]contractState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load()
	return d.Contracts, err
}
