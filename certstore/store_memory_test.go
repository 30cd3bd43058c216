package certstore

import "testing"

func TestMemoryStoreConformance(t *testing.T) {
	testStoreConformance(t, func(t *testing.T) Store { return newMemoryStore() }, DefaultKeyOptions())
}

func TestMemoryStoreConformanceRSA(t *testing.T) {
	testStoreConformance(t, func(t *testing.T) Store { return newMemoryStore() }, KeyOptions{Algorithm: RSA2048})
}
