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
