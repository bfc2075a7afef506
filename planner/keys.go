package planner

import "github.com/flowsql/flowsql/sql"

// Group keys (and listed rows) are packed into a fixed number of 64-bit
// words, so the hash table compares and hashes words, not values. Each key
// column gets a field of fixed width:
//
//	sip, dip     32 bits: interned id (aggregates) | 128 bits: the address (rows)
//	iface, host  32 bits: interned name id
//	time, bucket 64 bits: unix seconds
//	dport        16 bits
//	proto         8 bits
//	counters     64 bits
//
// Fields of 64 bits and more take whole words; narrower ones share words,
// first fit in key order. (sip, dip, dport, proto) is two words.

// keyField locates one key column in the words of a key.
type keyField struct {
	word  int
	shift uint
	bits  uint // 8, 16, 32, 64 or 128 (words word and word+1: high, low)
}

// keyLayout is the packing of a plan's keys.
type keyLayout struct {
	fields []keyField
	nk     int // words per key
}

// keyBits returns the width of a key column's field.
func keyBits(k *keySpec, agg bool) uint {
	switch k.col.Type() {
	case sql.TypeAddr:
		if agg {
			return 32
		}
		return 128
	case sql.TypeString:
		return 32
	case sql.TypePort:
		return 16
	case sql.TypeProto:
		return 8
	}
	return 64
}

func newKeyLayout(keys []keySpec, agg bool) keyLayout {
	var l keyLayout
	var used []uint // bits used per word; 64 for whole-word fields
	for i := range keys {
		b := keyBits(&keys[i], agg)
		if b >= 64 {
			l.fields = append(l.fields, keyField{word: len(used), bits: b})
			for range b / 64 {
				used = append(used, 64)
			}
			continue
		}
		w := -1
		for j, u := range used {
			if u+b <= 64 {
				w = j
				break
			}
		}
		if w < 0 {
			w = len(used)
			used = append(used, 0)
		}
		l.fields = append(l.fields, keyField{word: w, shift: used[w], bits: b})
		used[w] += b
	}
	l.nk = len(used)
	return l
}

// get returns key column k (at most 64 bits wide) of a packed key.
func (l *keyLayout) get(words []uint64, k int) uint64 {
	f := l.fields[k]
	v := words[f.word] >> f.shift
	if f.bits < 64 {
		v &= 1<<f.bits - 1
	}
	return v
}

// get128 returns a 128-bit key column.
func (l *keyLayout) get128(words []uint64, k int) u128 {
	f := l.fields[k]
	return u128{words[f.word], words[f.word+1]}
}

// put ORs value v of key column k into a packed key.
func (l *keyLayout) put(words []uint64, k int, v uint64) {
	f := l.fields[k]
	words[f.word] |= v << f.shift
}

// set replaces the value of key column k in a packed key.
func (l *keyLayout) set(words []uint64, k int, v uint64) {
	f := l.fields[k]
	if f.bits < 64 {
		words[f.word] &^= (1<<f.bits - 1) << f.shift
	} else {
		words[f.word] = 0
	}
	words[f.word] |= v << f.shift
}

// put128 stores a 128-bit key column.
func (l *keyLayout) put128(words []uint64, k int, v u128) {
	f := l.fields[k]
	words[f.word], words[f.word+1] = v.hi, v.lo
}

// orColumn ORs the values vals[i] of key column k into key i of keys (nk
// words each).
func (l *keyLayout) orColumn(keys []uint64, k int, vals []uint64) {
	f := l.fields[k]
	nk, w, sh := l.nk, f.word, f.shift
	keys = keys[:len(vals)*nk]
	switch nk {
	case 1:
		for i, v := range vals {
			keys[i] |= v << sh
		}
	case 2:
		for i, v := range vals {
			keys[2*i+w] |= v << sh
		}
	default:
		for i, v := range vals {
			keys[nk*i+w] |= v << sh
		}
	}
}

// orCodes is orColumn for an address key of an aggregate: codes are
// dictionary codes, mapped to interned ids through ids.
func (l *keyLayout) orCodes(keys []uint64, k int, codes []uint64, ids []uint32) {
	f := l.fields[k]
	nk, w, sh := l.nk, f.word, f.shift
	keys = keys[:len(codes)*nk]
	for i, c := range codes {
		keys[nk*i+w] |= uint64(ids[c]) << sh
	}
}

// fill sets n keys to the constant words c.
func fillKeys(keys []uint64, n int, c []uint64) []uint64 {
	nk := len(c)
	keys = resize(keys, n*nk)
	switch nk {
	case 1:
		for i := range keys {
			keys[i] = c[0]
		}
	case 2:
		for i := 0; i < len(keys); i += 2 {
			keys[i], keys[i+1] = c[0], c[1]
		}
	default:
		for i := 0; i < len(keys); i += nk {
			copy(keys[i:i+nk], c)
		}
	}
	return keys
}
