package kernel

import "reflect"

// FreeSetID identifies the map the kernel keeps its free candidates in,
// so a test can tell a map cleared for reuse from one replaced.
func FreeSetID(k *Kernel) uintptr {
	return uintptr(reflect.ValueOf(k.maybeFree).UnsafePointer())
}

// MaxKeptFree is maxKeptFree, for the test that crosses it.
const MaxKeptFree = maxKeptFree

// ConfigDecodes is how many vat and subcluster configs k has decoded.
func ConfigDecodes(k *Kernel) int { return k.configs.decodes }
