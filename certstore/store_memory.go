package certstore

import (
	"bytes"
	"maps"
	"slices"
)

// newMemoryStore returns an empty store that lives in this process only, for tests.
func newMemoryStore() *softStore {
	return newSoftStore(KindMemory, &memoryVault{keys: map[Fingerprint][]byte{}, records: map[Fingerprint]*record{}})
}

// memoryVault keeps keys and records in maps.
type memoryVault struct {
	keys    map[Fingerprint][]byte
	records map[Fingerprint]*record
}

func (m *memoryVault) putKey(r *record, pkcs8 []byte) error {
	fp := r.fingerprint()
	m.keys[fp] = bytes.Clone(pkcs8)
	return nil
}

func (m *memoryVault) getKey(fp Fingerprint) ([]byte, error) {
	der, ok := m.keys[fp]
	if !ok {
		return nil, &NotFoundError{What: "key " + string(fp)}
	}
	return bytes.Clone(der), nil
}

func (m *memoryVault) deleteKey(fp Fingerprint) error {
	if _, ok := m.keys[fp]; !ok {
		return &NotFoundError{What: "key " + string(fp)}
	}
	delete(m.keys, fp)
	return nil
}

func (m *memoryVault) putRecord(r *record) error {
	c := *r
	c.Chain = slices.Clone(r.Chain)
	m.records[r.fingerprint()] = &c
	return nil
}

func (m *memoryVault) getRecord(fp Fingerprint) (*record, error) {
	r, ok := m.records[fp]
	if !ok {
		return nil, &NotFoundError{What: string(fp)}
	}
	return r, nil
}

func (m *memoryVault) listRecords() ([]*record, error) {
	return slices.Collect(maps.Values(m.records)), nil
}

func (m *memoryVault) deleteRecord(fp Fingerprint) error {
	if _, ok := m.records[fp]; !ok {
		return &NotFoundError{What: string(fp)}
	}
	delete(m.records, fp)
	return nil
}
