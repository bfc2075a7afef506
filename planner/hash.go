package planner

import "math/bits"

// Hash functions of group keys, interned values and count(DISTINCT)
// sketches. The sketch hashes travel between hosts inside partial
// aggregates, so they must never change without a new sketchVersion.

const (
	hashK0 = 0xa0761d6478bd642f
	hashK1 = 0xe7037ed1a0b428db
	hashK2 = 0x8ebc6af09c88c6e3
)

// mix64 is a strong 64-bit finalizer (the one of SplitMix64).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// mum multiplies two words to 128 bits and folds the halves.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hash1 hashes one word.
func hash1(a uint64) uint64 { return mum(a^hashK0, hashK1) }

// hash2 hashes two words.
func hash2(a, b uint64) uint64 { return mum(a^hashK0, b^hashK1) }

// hashWords hashes any number of words.
func hashWords(w []uint64) uint64 {
	h := uint64(hashK2)
	for _, x := range w {
		h = mum(h^x, hashK1^hashK0)
	}
	return h
}

// hashValue is the sketch hash of a number (time, port, proto, counter).
func hashValue(v uint64) uint64 { return mix64(v ^ hashK2) }

// hashAddr is the sketch hash of an address in 16-byte form.
func hashAddr(a u128) uint64 { return mix64(mix64(a.hi^hashK0) ^ a.lo) }

// hashString is the sketch hash of an interface or host name (FNV-1a,
// then mixed).
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}
