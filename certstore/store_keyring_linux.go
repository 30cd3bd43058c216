package certstore

import (
	"fmt"

	ss "github.com/zalando/go-keyring/secret_service"
)

// setSecret writes r's key as go-keyring would, in the login collection with its
// service and username attributes, but with keyLabel's label and keyAttributes'
// attributes instead of 「Password for '<fingerprint>' on 'inkan:…'」.
func setSecret(service string, r *record, value string) error {
	svc, err := ss.NewSecretService()
	if err != nil {
		return err
	}
	session, err := svc.OpenSession()
	if err != nil {
		return err
	}
	defer svc.Close(session)
	collection := svc.GetLoginCollection()
	if err := svc.Unlock(collection.Path()); err != nil {
		return err
	}
	if err := svc.CreateItem(collection, keyLabel(r), keyAttributes(service, r), ss.NewSecret(session.Path(), value)); err != nil {
		return fmt.Errorf("create the keyring item: %w", err)
	}
	return nil
}

// keyLabel is how the key of r is named where the user sees it:
// 「Inkan 電子証明書の秘密鍵 demo-general1+1376 (いんかん信用金庫)」, the bank
// being the issuing CA's organization.
func keyLabel(r *record) string {
	label := "Inkan 電子証明書の秘密鍵 " + r.Label
	if org := r.Chain[0].Issuer.Organization; len(org) > 0 && org[0] != "" {
		label += " (" + org[0] + ")"
	}
	return label
}

// keyAttributes are the Secret Service attributes of r's key: go-keyring's own
// two (service, username), by which it finds the item again, and what the item
// is, for people and tools that search the keyring.
func keyAttributes(service string, r *record) map[string]string {
	attrs := map[string]string{
		"service":      service,
		"username":     string(r.fingerprint()),
		"application":  "inkan",
		"inkan-kind":   "client certificate private key (PKCS#8)",
		"inkan-label":  r.Label,
		"inkan-holder": r.Chain[0].Subject.CommonName,
		"inkan-serial": r.Chain[0].SerialNumber.Text(16),
	}
	if org := r.Chain[0].Issuer.Organization; len(org) > 0 {
		attrs["inkan-bank"] = org[0]
	}
	return attrs
}
