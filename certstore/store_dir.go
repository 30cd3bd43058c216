package certstore

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A dir store keeps, for each identity, two files named by the certificate's
// fingerprint in one directory:
//
//	<fingerprint>.pem  the chain, leaf first, after a few "Name: value" lines
//	                   (Label, Added-At, Exportable) that PEM readers skip
//	<fingerprint>.key  the private key, PKCS#8 PEM, mode 0600
//
// Each file is written to a temporary name and renamed into place, so a reader
// never sees half of one.

// openDir opens (creating it if need be) the dir store at path.
func openDir(path string) (*softStore, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open certificate store dir:%s: %w", path, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("open certificate store dir:%s: %w", path, err)
	}
	rd := recordDir(abs)
	return newSoftStore(KindDir+":"+abs, &dirVault{recordDir: rd}), nil
}

// dirVault keeps records and keys as files in one directory.
type dirVault struct {
	recordDir
}

func (d *dirVault) keyPath(fp Fingerprint) string {
	return filepath.Join(string(d.recordDir), string(fp)+".key")
}

func (d *dirVault) putKey(r *record, pkcs8 []byte) error {
	fp := r.fingerprint()
	return writeFileAtomic(d.keyPath(fp), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600)
}

func (d *dirVault) getKey(fp Fingerprint) ([]byte, error) {
	data, err := os.ReadFile(d.keyPath(fp))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{What: "key " + string(fp)}
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PKCS#8 PEM private key", d.keyPath(fp))
	}
	return block.Bytes, nil
}

func (d *dirVault) deleteKey(fp Fingerprint) error {
	err := os.Remove(d.keyPath(fp))
	if errors.Is(err, fs.ErrNotExist) {
		return &NotFoundError{What: "key " + string(fp)}
	}
	return err
}

// recordDir keeps records as <fingerprint>.pem files in a directory. The dir and
// keyring stores share it.
type recordDir string

func (d recordDir) path(fp Fingerprint) string {
	return filepath.Join(string(d), string(fp)+".pem")
}

func (d recordDir) putRecord(r *record) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Label: %s\nAdded-At: %s\nExportable: %t\n\n", r.Label, r.AddedAt.UTC().Format(time.RFC3339Nano), r.Exportable)
	for _, c := range r.Chain {
		if err := pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
			return err
		}
	}
	return writeFileAtomic(d.path(r.fingerprint()), b.Bytes(), 0o600)
}

func (d recordDir) getRecord(fp Fingerprint) (*record, error) {
	data, err := os.ReadFile(d.path(fp))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{What: string(fp)}
	}
	if err != nil {
		return nil, err
	}
	r, err := parseRecord(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.path(fp), err)
	}
	if r.fingerprint() != fp {
		return nil, fmt.Errorf("%s: holds the certificate %s", d.path(fp), r.fingerprint())
	}
	return r, nil
}

func (d recordDir) listRecords() ([]*record, error) {
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return nil, err
	}
	var records []*record
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".pem")
		if !ok || !e.Type().IsRegular() || !isFingerprint(name) {
			continue
		}
		r, err := d.getRecord(Fingerprint(name))
		if err != nil {
			return nil, err
		}
		records = append(records, r)
	}
	return records, nil
}

func (d recordDir) deleteRecord(fp Fingerprint) error {
	err := os.Remove(d.path(fp))
	if errors.Is(err, fs.ErrNotExist) {
		return &NotFoundError{What: string(fp)}
	}
	return err
}

func isFingerprint(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parseRecord reads what recordDir.putRecord wrote.
func parseRecord(data []byte) (*record, error) {
	head, body, ok := bytes.Cut(data, []byte("-----BEGIN"))
	if !ok {
		return nil, errors.New("no certificate in the record")
	}
	body = append([]byte("-----BEGIN"), body...)

	r := &record{}
	sc := bufio.NewScanner(bytes.NewReader(head))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		switch name {
		case "Label":
			r.Label = value
		case "Added-At":
			t, err := time.Parse(time.RFC3339Nano, value)
			if err != nil {
				return nil, fmt.Errorf("record field Added-At: %w", err)
			}
			r.AddedAt = t
		case "Exportable":
			b, err := strconv.ParseBool(value)
			if err != nil {
				return nil, fmt.Errorf("record field Exportable: %w", err)
			}
			r.Exportable = b
		}
	}
	for {
		var block *pem.Block
		block, body = pem.Decode(body)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		r.Chain = append(r.Chain, c)
	}
	if len(r.Chain) == 0 {
		return nil, errors.New("no certificate in the record")
	}
	return r, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so path holds either the old or the new content.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
