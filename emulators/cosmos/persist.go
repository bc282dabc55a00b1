package cosmos

import (
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// Layout of the bbolt file:
//
//	meta                 "rid" → last resource number (uint32)
//	dbs                  database id → number (uint32) + properties JSON
//	colls                database id NUL container id → number (uint32) + properties JSON
//	lsn                  container rid → last LSN (uint64)
//	items/<container rid> partition key JSON NUL item id → LSN (uint64) + commit ns (int64) + item JSON
var (
	bucketMeta  = []byte("meta")
	bucketDBs   = []byte("dbs")
	bucketColls = []byte("colls")
	bucketLSN   = []byte("lsn")
	keyRID      = []byte("rid")
)

func itemsBucket(c *container) []byte { return []byte("items/" + c.rid) }

func collKey(dbID, id string) []byte { return []byte(dbID + "\x00" + id) }

func numbered(n uint32, body []byte) []byte {
	out := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(body)), n)
	return append(out, body...)
}

func putRIDSeq(tx *bolt.Tx, seq uint32) error {
	return tx.Bucket(bucketMeta).Put(keyRID, binary.BigEndian.AppendUint32(nil, seq))
}

func persistDatabase(d *database, seq uint32) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		if err := putRIDSeq(tx, seq); err != nil {
			return err
		}
		return tx.Bucket(bucketDBs).Put([]byte(d.id), numbered(d.num, d.body))
	}
}

func unpersistDatabase(d *database) func(*bolt.Tx) error {
	colls := make([]*container, 0, len(d.colls))
	for _, c := range d.colls {
		colls = append(colls, c)
	}
	return func(tx *bolt.Tx) error {
		for _, c := range colls {
			if err := unpersistContainer(c)(tx); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketDBs).Delete([]byte(d.id))
	}
}

func persistContainer(c *container, seq uint32) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		if err := putRIDSeq(tx, seq); err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(itemsBucket(c)); err != nil {
			return err
		}
		return tx.Bucket(bucketColls).Put(collKey(c.db.id, c.id), numbered(c.num, c.body))
	}
}

func unpersistContainer(c *container) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(itemsBucket(c)); err != nil && err != bolt.ErrBucketNotFound {
			return err
		}
		if err := tx.Bucket(bucketLSN).Delete([]byte(c.rid)); err != nil {
			return err
		}
		return tx.Bucket(bucketColls).Delete(collKey(c.db.id, c.id))
	}
}

// persistItems writes a committed stage: its final versions and deletes,
// and the container's LSN, so a restart never reuses an LSN.
func persistItems(c *container, st *stage) func(*bolt.Tx) error {
	type put struct {
		key, val []byte
	}
	puts := make([]put, 0, len(st.order))
	for _, key := range st.order {
		var val []byte
		if d := st.changed[key]; d != nil {
			val = encodeRecord(d)
		}
		puts = append(puts, put{key: []byte(key), val: val})
	}
	lsn := st.lsn
	return func(tx *bolt.Tx) error {
		b := tx.Bucket(itemsBucket(c))
		if b == nil {
			return nil // the container was deleted meanwhile
		}
		for _, p := range puts {
			if err := putOrDelete(b, p.key, p.val); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketLSN).Put([]byte(c.rid), binary.BigEndian.AppendUint64(nil, lsn))
	}
}

func putOrDelete(b *bolt.Bucket, key, val []byte) error {
	if val == nil {
		return b.Delete(key)
	}
	return b.Put(key, val)
}

func encodeRecord(d *document) []byte {
	out := make([]byte, 16, 16+len(d.body))
	binary.BigEndian.PutUint64(out[:8], d.lsn)
	binary.BigEndian.PutUint64(out[8:16], uint64(d.atNs))
	return append(out, d.body...)
}
