package cosmos

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// The effective partition key (EPK) places a partition key value in the
// hash space that partition key ranges divide. It is computed as azcosmos
// v1.5.0 computes it (internal/epk), which is what ReadManyItems and feed
// ranges route by:
//
//   - every component is binary encoded: a type marker (undefined 0x00,
//     null 0x01, false 0x02, true 0x03, number 0x05 + float64 little
//     endian, string 0x08 + UTF-8 bytes + a terminator: 0x00 in V1, 0xFF
//     in V2);
//   - V2 "Hash": one 128-bit MurmurHash3 (x64, seed 0) of all components,
//     as 16 bytes big endian in upper-case hex with the top two bits
//     cleared, so every EPK sorts below the "FF" end of the space;
//   - V2 "MultiHash" (hierarchical keys): the same per component,
//     concatenated;
//   - V1 (a definition with version 1 or no version, as azcosmos reads
//     it): per component, 12 zero bytes and the 32-bit MurmurHash3 (x86,
//     seed 0) in hex.
//
// Range boundaries are compared as azcosmos compares them: a shorter
// string equals a longer one whose extra characters are all '0'.

const (
	epkUndefined byte = 0x00
	epkNull      byte = 0x01
	epkFalse     byte = 0x02
	epkTrue      byte = 0x03
	epkNumber    byte = 0x05
	epkString    byte = 0x08
)

// epkMax is the exclusive upper bound of the whole EPK space.
const epkMax = "FF"

// appendComponent binary-encodes one partition key component; strings end
// with term (0x00 for V1, 0xFF for V2).
func appendComponent(buf []byte, v any, term byte) []byte {
	switch x := v.(type) {
	case nil:
		return append(buf, epkNull)
	case bool:
		if x {
			return append(buf, epkTrue)
		}
		return append(buf, epkFalse)
	case float64:
		buf = append(buf, epkNumber)
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
	case string:
		buf = append(buf, epkString)
		buf = append(buf, x...)
		return append(buf, term)
	}
	return append(buf, epkUndefined) // undefined ({}), and anything else
}

// effectivePK computes the EPK of the values of a partition key under a
// container's definition.
func (d pkDef) effectivePK(values []any) string {
	if len(values) == 0 {
		values = []any{undefinedValue}
	}
	switch {
	case d.version != 2:
		return epkV1(values)
	case d.multiHash:
		return epkV2Multi(values)
	}
	return epkV2(values)
}

func epkV1(values []any) string {
	var outArr [96]byte
	var bufArr [128]byte
	out, buf := outArr[:0], bufArr[:0]
	for _, v := range values {
		buf = appendComponent(buf[:0], v, 0x00)
		out = append(out, "000000000000000000000000"...)
		out = appendHex32(out, murmur3x86(buf, 0))
	}
	return string(out)
}

// The EPK functions encode into stack buffers, so a short key costs one
// allocation: the result.
func epkV2(values []any) string {
	var outArr [32]byte
	var bufArr [128]byte
	buf := bufArr[:0]
	for _, v := range values {
		buf = appendComponent(buf, v, 0xFF)
	}
	return string(appendHash128(outArr[:0], buf, true))
}

func epkV2Multi(values []any) string {
	var outArr [96]byte
	var bufArr [128]byte
	out, buf := outArr[:0], bufArr[:0]
	for _, v := range values {
		buf = appendComponent(buf[:0], v, 0xFF)
		out = appendHash128(out, buf, true)
	}
	return string(out)
}

// appendHash128 appends the 128-bit hash of data as 32 hex digits, most
// significant byte first, with the top two bits cleared when masked.
func appendHash128(out, data []byte, masked bool) []byte {
	lo, hi := murmur3x64(data, 0)
	if masked {
		hi &= 0x3FFFFFFFFFFFFFFF
	}
	out = appendHex32(out, uint32(hi>>32))
	out = appendHex32(out, uint32(hi))
	out = appendHex32(out, uint32(lo>>32))
	return appendHex32(out, uint32(lo))
}

const hexDigits = "0123456789ABCDEF"

func appendHex32(out []byte, v uint32) []byte {
	for shift := 28; shift >= 0; shift -= 4 {
		out = append(out, hexDigits[(v>>uint(shift))&0xF])
	}
	return out
}

// murmur3x86 is MurmurHash3_x86_32.
func murmur3x86(data []byte, seed uint32) uint32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	h := seed
	n := len(data) &^ 3
	for i := 0; i < n; i += 4 {
		k := binary.LittleEndian.Uint32(data[i:])
		h ^= bits.RotateLeft32(k*c1, 15) * c2
		h = bits.RotateLeft32(h, 13)*5 + 0xe6546b64
	}
	var k uint32
	for i := len(data) - 1; i >= n; i-- {
		k = k<<8 | uint32(data[i])
	}
	if len(data) > n {
		h ^= bits.RotateLeft32(k*c1, 15) * c2
	}
	h ^= uint32(len(data))
	return fmix32(h)
}

func fmix32(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	return h ^ h>>16
}

// murmur3x64 is MurmurHash3_x64_128 with both halves seeded by seed; it
// returns the first (lo) and second (hi) 64-bit words.
func murmur3x64(data []byte, seed uint64) (lo, hi uint64) {
	const c1, c2 = 0x87c37b91114253d5, 0x4cf5ad432745937f
	h1, h2 := seed, seed
	n := len(data) &^ 15
	for i := 0; i < n; i += 16 {
		k1 := binary.LittleEndian.Uint64(data[i:])
		k2 := binary.LittleEndian.Uint64(data[i+8:])
		h1 ^= bits.RotateLeft64(k1*c1, 31) * c2
		h1 = (bits.RotateLeft64(h1, 27)+h2)*5 + 0x52dce729
		h2 ^= bits.RotateLeft64(k2*c2, 33) * c1
		h2 = (bits.RotateLeft64(h2, 31)+h1)*5 + 0x38495ab5
	}
	k1, k2 := tailWords(data[n:])
	// azcosmos mixes both tail words even when they are zero, which leaves
	// the hash unchanged: a zero word multiplies to zero.
	h2 ^= bits.RotateLeft64(k2*c2, 33) * c1
	h1 ^= bits.RotateLeft64(k1*c1, 31) * c2
	h1 ^= uint64(len(data))
	h2 ^= uint64(len(data))
	h1 += h2
	h2 += h1
	h1, h2 = fmix64(h1), fmix64(h2)
	h1 += h2
	h2 += h1
	return h1, h2
}

// tailWords reads the last (up to 15) bytes as two little-endian words.
func tailWords(tail []byte) (k1, k2 uint64) {
	for i := len(tail) - 1; i >= 0; i-- {
		if i >= 8 {
			k2 = k2<<8 | uint64(tail[i])
		} else {
			k1 = k1<<8 | uint64(tail[i])
		}
	}
	return k1, k2
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	return k ^ k>>33
}

// compareEPK orders two EPKs or boundaries; a string and the same string
// followed by zeros are equal. "FF" (epkMax) is above every EPK.
func compareEPK(a, b string) int {
	n := min(len(a), len(b))
	if a[:n] != b[:n] {
		if a[:n] < b[:n] {
			return -1
		}
		return 1
	}
	tail, sign := a[n:], 1
	if len(b) > len(a) {
		tail, sign = b[n:], -1
	}
	for i := 0; i < len(tail); i++ {
		if tail[i] != '0' {
			return sign
		}
	}
	return 0
}
