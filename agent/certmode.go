package agent

import (
	"context"
	"slices"
	"strings"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// Certificate mode (電子証明書方式) belongs to a contract: once its admin has
// picked up a certificate, the bank refuses ID・パスワード方式 for every ID of
// that contract, and only for that contract. The agent learns it from the
// bank's answers (a login's certificate_mode, a password login refused with
// certificate_required) and remembers it per contract in the state file, so the
// window can say so on its start screen without asking the bank.

// noteContract remembers what a successful login of loginID said of its
// contract. Failing to write the state file costs only the note, so it does not
// fail the login.
func (a *Agent) noteContract(loginID string, resp wire.LoginResponse) {
	if resp.User.ContractID == "" {
		return
	}
	a.rememberContract(contractKey(a.cfg.BankCode, resp.User.ContractID), strings.ToLower(loginID), resp.CertificateMode)
}

// rememberContract writes to the state file that the contract key is in
// certificate mode or not, as the bank last said, and that id (lower case)
// belongs to it.
func (a *Agent) rememberContract(key, id string, certificateMode bool) {
	_ = a.state.updateContracts(func(m map[string]contractState) {
		st := m[key]
		st.CertificateMode = certificateMode
		if !slices.Contains(st.LoginIDs, id) {
			st.LoginIDs = append(st.LoginIDs, id)
		}
		m[key] = st
	})
}

// noteCertificateRequired remembers that the bank refused loginID's password
// login because its contract is in certificate mode. The refusal names no
// contract: it is the one loginID logged in with before from this PC, else the
// one its certificate on this PC names; with neither, nothing is remembered.
func (a *Agent) noteCertificateRequired(ctx context.Context, loginID string) {
	id := strings.ToLower(loginID)
	contracts, err := a.state.contracts()
	if err != nil {
		return
	}
	key := ""
	prefix := contractKey(a.cfg.BankCode, "")
	for k, st := range contracts {
		if strings.HasPrefix(k, prefix) && slices.Contains(st.LoginIDs, id) {
			key = k
		}
	}
	if key == "" {
		ids, err := a.store.List(ctx, certstore.ListOptions{LoginID: wire.Subject{LoginID: loginID, BankCode: a.cfg.BankCode}.Label()})
		if err != nil {
			return
		}
		for _, sid := range ids {
			if s, err := wire.SubjectOf(sid.Certificate); err == nil && s.BankCode == a.cfg.BankCode && s.ContractID != "" {
				key = contractKey(a.cfg.BankCode, s.ContractID)
			}
		}
	}
	if key != "" {
		a.rememberContract(key, id, true)
	}
}

// CertificateMode reports whether this bank said, of every contract that
// logged in from this PC, that it is in certificate mode, and of one at least:
// then ID・パスワード方式 is of no use to anyone known here. A contract that
// answered otherwise keeps it false, though another contract of the same bank
// switched. It reads the agent's state file only, not the bank.
func (a *Agent) CertificateMode() (bool, error) {
	contracts, err := a.state.contracts()
	if err != nil {
		return false, err
	}
	prefix := contractKey(a.cfg.BankCode, "")
	seen := false
	for k, st := range contracts {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if !st.CertificateMode {
			return false, nil
		}
		seen = true
	}
	return seen, nil
}

// CertificateMode is [Agent.CertificateMode] of every configured bank: true
// when each bank said so of every contract of it that logged in from this PC.
func (b *Banks) CertificateMode() (bool, error) {
	for _, a := range b.agents {
		ok, err := a.CertificateMode()
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}
