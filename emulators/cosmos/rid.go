package cosmos

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
)

// Resource ids follow Cosmos DB's layout: a database rid is 4 bytes, a
// container rid is its database's 4 bytes plus 4 of its own, and an item
// rid is its container's 8 bytes plus 8 of its own, all base64 encoded.

func databaseRID(n uint32) string {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], n)
	return base64.StdEncoding.EncodeToString(b[:])
}

func containerRIDBytes(db, coll uint32) [8]byte {
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:4], db)
	binary.BigEndian.PutUint32(b[4:], coll|0x80000000)
	return b
}

func itemRID(coll [8]byte, seq uint64) string {
	var b [16]byte
	copy(b[:8], coll[:])
	binary.LittleEndian.PutUint64(b[8:], seq)
	return base64.StdEncoding.EncodeToString(b[:])
}

// itemETag is unique per container and write: the LSN of the write.
func itemETag(coll uint32, lsn uint64) string {
	b := make([]byte, 0, 40)
	b = append(b, '"')
	b = appendPaddedHex(b, uint64(coll), 8)
	b = append(b, "-0000-0000-0000-"...)
	b = appendPaddedHex(b, lsn, 12)
	return string(append(b, '"'))
}

// appendPaddedHex appends v in lower-case hex, zero-padded to width digits
// (fmt's %0<width>x).
func appendPaddedHex(b []byte, v uint64, width int) []byte {
	var digits [16]byte
	hex := strconv.AppendUint(digits[:0], v, 16)
	for range width - len(hex) {
		b = append(b, '0')
	}
	return append(b, hex...)
}

func resourceETag(n uint32, ts int64) string {
	return fmt.Sprintf("\"%08x-0000-0000-0000-%012x\"", n, ts)
}
