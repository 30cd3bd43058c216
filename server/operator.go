package server

import (
	"context"

	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

// Operator is the bank's side of the life cycle, as the CLI and in-process
// tests use it. Every action is audited with actor "operator:<OS user>".
type Operator struct {
	svc *lifecycle.Service
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
type Contract = lifecycle.ContractSummary

// ListContracts lists every contract.
func (o *Operator) ListContracts(ctx context.Context) ([]Contract, error) {
	return o.svc.ListContracts(ctx, o.actor())
}

// RevokeIssuedBy revokes in the records every active certificate of the
// issuing CA id (revoked in the root CRL, see ca.RevokeIssuer) and returns
// their login IDs. An issuing CA that is not loaded has expired, and so has
// every certificate it signed: there is nothing to revoke then.
func (o *Operator) RevokeIssuedBy(ctx context.Context, id string) ([]string, error) {
	iss := o.svc.CA.Issuer(id)
	if iss == nil {
		return nil, nil
	}
	return o.svc.RevokeIssuedBy(ctx, o.actor(), iss)
}

// CertificateRecord is one issuance as the operator lists it.
type CertificateRecord = lifecycle.CertificateRecord

// ListCertificates lists every issuance of loginID, or of every ID when
// loginID is empty, newest first.
func (o *Operator) ListCertificates(ctx context.Context, loginID string) ([]CertificateRecord, error) {
	return o.svc.ListCertificates(ctx, o.actor(), loginID)
}
