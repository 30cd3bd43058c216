package server

import (
	"context"
	"fmt"

	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

// Operator is the bank's side of the life cycle, as the CLI and in-process
// tests use it. Every action is audited with actor "operator".
type Operator struct {
	svc *lifecycle.Service
	db  store.Store
}

func (o *Operator) actor() lifecycle.Actor { return lifecycle.OperatorActor() }

// CreateContract records a new contract and returns its ID.
func (o *Operator) CreateContract(ctx context.Context, name string) (string, error) {
	return o.svc.CreateContract(ctx, o.actor(), name)
}

// CreateUser adds a login ID of any role to a contract.
func (o *Operator) CreateUser(ctx context.Context, contractID, loginID string, role wire.Role, displayName, email, password string) error {
	return o.svc.CreateUser(ctx, o.actor(), lifecycle.NewUser{ContractID: contractID, LoginID: loginID, Role: role,
		DisplayName: displayName, Email: email, Password: password})
}

// IssueCertificate opens a pickup window for loginID.
func (o *Operator) IssueCertificate(ctx context.Context, loginID string) error {
	return o.svc.Issue(ctx, o.actor(), loginID)
}

// RevokeCertificate revokes loginID's current certificate.
func (o *Operator) RevokeCertificate(ctx context.Context, loginID string) error {
	return o.svc.Revoke(ctx, o.actor(), loginID)
}

// ReissueCertificate revokes what loginID has and opens a new pickup window.
func (o *Operator) ReissueCertificate(ctx context.Context, loginID string) error {
	return o.svc.Reissue(ctx, o.actor(), loginID)
}

// DeleteUser removes loginID and revokes its certificate.
func (o *Operator) DeleteUser(ctx context.Context, loginID string) error {
	return o.svc.DeleteUser(ctx, o.actor(), loginID)
}

// UnlockUser clears loginID's lockout.
func (o *Operator) UnlockUser(ctx context.Context, loginID string) error {
	return o.svc.Unlock(ctx, o.actor(), loginID)
}

// SetPassword replaces loginID's password (and unlocks it).
func (o *Operator) SetPassword(ctx context.Context, loginID, password string) error {
	return o.svc.SetPassword(ctx, o.actor(), loginID, password)
}

// ListUsers lists the IDs of a contract with their certificate state.
func (o *Operator) ListUsers(ctx context.Context, contractID string) ([]wire.User, error) {
	return o.svc.ListUsers(ctx, o.actor(), contractID)
}

// User describes one ID.
func (o *Operator) User(ctx context.Context, loginID string) (wire.User, error) {
	return o.svc.User(ctx, o.actor(), loginID)
}

// Contract is one contract as the operator lists it.
type Contract struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	CertificateMode bool   `json:"certificate_mode"`
	Users           int    `json:"users"`
}

// ListContracts lists every contract.
func (o *Operator) ListContracts(ctx context.Context) ([]Contract, error) {
	out := []Contract{}
	err := o.db.View(ctx, func(tx store.Tx) error {
		cs, err := tx.Contracts()
		if err != nil {
			return err
		}
		for _, c := range cs {
			users, err := tx.Users(c.ID)
			if err != nil {
				return err
			}
			out = append(out, Contract{ID: c.ID, Name: c.Name, CertificateMode: c.CertificateModeAt != nil, Users: len(users)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list contracts: %w", err)
	}
	return out, nil
}

// CertificateRecord is one issuance as the operator lists it.
type CertificateRecord struct {
	LoginID    string `json:"login_id"`
	ContractID string `json:"contract_id"`
	wire.Certificate
}

// ListCertificates lists every issuance of loginID, or of every ID when
// loginID is empty, newest first.
func (o *Operator) ListCertificates(ctx context.Context, loginID string) ([]CertificateRecord, error) {
	now := o.svc.Now()
	out := []CertificateRecord{}
	err := o.db.View(ctx, func(tx store.Tx) error {
		certs, err := tx.Certificates(loginID)
		if err != nil {
			return err
		}
		for i := range certs {
			out = append(out, CertificateRecord{LoginID: certs[i].LoginID, ContractID: certs[i].ContractID, Certificate: o.svc.CertificateView(&certs[i], now)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	return out, nil
}
