package agent

// Which bank a login ID belongs to, when several are configured. Each bank may
// publish the form of the login IDs it issues (login_id_pattern in its
// configuration file; its server refuses IDs of another form). The bank is
// inferred from that alone, on this PC: no server is asked, since a server
// that answered "this ID is mine" without the password would tell anyone which
// IDs exist, and the password goes only to the bank inferred or chosen.

import (
	"fmt"
	"strings"

	"github.com/inkan-dev/inkan/wire"
)

// AdmitsLoginID reports whether the bank may have issued loginID: it publishes
// no form of login ID, or loginID has that form.
func (c Config) AdmitsLoginID(loginID string) bool {
	re, err := wire.LoginIDMatcher(c.LoginIDPattern)
	if err != nil {
		return true // Validate refuses such a configuration; here, do not rule the bank out
	}
	return re == nil || re.MatchString(loginID)
}

// BanksFor returns, of cfgs, the banks that may have issued loginID (see
// [Config.AdmitsLoginID]), in their order. With exactly one, that is the bank
// of loginID; with several the user must say which; with none, loginID is
// mistyped or its bank is not configured on this PC.
func BanksFor(cfgs []Config, loginID string) []Config {
	var out []Config
	for _, c := range cfgs {
		if c.AdmitsLoginID(loginID) {
			out = append(out, c)
		}
	}
	return out
}

// ErrNoBankForID means no configured bank issues login IDs of the form given.
var ErrNoBankForID = fmt.Errorf("no bank configured on this PC issues login IDs of this form: %w", ErrUnknownBank)

// ForLoginID returns the agent of the bank loginID belongs to, inferred from
// the form of the IDs each bank issues: the only bank, or the only one whose
// form fits. Several fitting is [ErrChooseBank], naming them; none is
// [ErrNoBankForID].
func (b *Banks) ForLoginID(loginID string) (*Agent, error) {
	if len(b.agents) == 1 {
		return b.agents[0], nil
	}
	var fit []*Agent
	var names []string
	for _, a := range b.agents {
		if a.cfg.AdmitsLoginID(loginID) {
			fit = append(fit, a)
			names = append(names, a.cfg.BankCode+" "+a.cfg.BankName)
		}
	}
	switch len(fit) {
	case 1:
		return fit[0], nil
	case 0:
		return nil, fmt.Errorf("login ID %q: %w (configured: %s)", loginID, ErrNoBankForID, strings.Join(b.codes(), ", "))
	}
	return nil, fmt.Errorf("login ID %q may be of %s: %w", loginID, strings.Join(names, ", "), ErrChooseBank)
}

// LoginIDFormError means a login ID does not have the form of the login IDs
// the bank issues: it is mistyped, or of another bank. Nothing was sent.
type LoginIDFormError struct {
	LoginID, BankCode, BankName, Pattern string
}

func (e *LoginIDFormError) Error() string {
	return fmt.Sprintf("login ID %q does not have the form of the IDs %s (%s) issues (%s)", e.LoginID, e.BankName, e.BankCode, e.Pattern)
}

// checkLoginIDForm refuses, before the password is sent, a login ID of another
// form than the bank publishes.
func (a *Agent) checkLoginIDForm(loginID string) error {
	if a.cfg.AdmitsLoginID(loginID) {
		return nil
	}
	return &LoginIDFormError{LoginID: loginID, BankCode: a.cfg.BankCode, BankName: a.cfg.BankName, Pattern: a.cfg.LoginIDPattern}
}
