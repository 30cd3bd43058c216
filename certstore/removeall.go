package certstore

import (
	"context"
	"errors"
	"fmt"
)

// orphanRemover is a store that can hold certificates of Inkan's whose key is
// gone (the Windows store: a certificate in CurrentUser\MY linked to a CNG key
// that no longer exists). List leaves those out; removeOrphans deletes them.
type orphanRemover interface {
	removeOrphans(ctx context.Context) (int, error)
}

// RemoveAll deletes every identity in s, certificate and key, and, where the
// store can hold them, Inkan's certificates whose key is already gone: what an
// uninstall that was asked to delete the certificates does. It returns the
// identities it deleted and how many key-less certificates went with them; on
// an error it goes on with the others and reports every failure.
func RemoveAll(ctx context.Context, s Store) (deleted []*Identity, orphans int, err error) {
	ids, err := s.List(ctx, ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	var errs []error
	for _, id := range ids {
		if derr := s.Delete(ctx, id.Fingerprint); derr != nil {
			errs = append(errs, fmt.Errorf("%q (%s): %w", id.Label, id.Fingerprint, derr))
			continue
		}
		deleted = append(deleted, id)
	}
	if o, ok := s.(orphanRemover); ok {
		n, oerr := o.removeOrphans(ctx)
		orphans = n
		if oerr != nil {
			errs = append(errs, oerr)
		}
	}
	return deleted, orphans, errors.Join(errs...)
}
