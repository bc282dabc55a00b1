package cosmos

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
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
	return fmt.Sprintf("\"%08x-0000-0000-0000-%012x\"", coll, lsn)
}

func resourceETag(n uint32, ts int64) string {
	return fmt.Sprintf("\"%08x-0000-0000-0000-%012x\"", n, ts)
}
