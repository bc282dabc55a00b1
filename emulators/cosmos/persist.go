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
//	items/<container rid> LSN (uint64) → commit ns (int64) + key length (uvarint) +
//	                     partition key JSON NUL item id + item JSON
//
// Items are keyed by the LSN of their latest version, so the items bucket
// is append-mostly (cheap commits) and loads in change feed order; a write
// deletes the key of the version it replaces.
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
		if err := putProvision(tx, []byte(d.id), d.provision.Load()); err != nil {
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
		if err := deleteProvision(tx, []byte(d.id)); err != nil {
			return err
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
		if err := putProvision(tx, collKey(c.db.id, c.id), c.provision.Load()); err != nil {
			return err
		}
		return tx.Bucket(bucketColls).Put(collKey(c.db.id, c.id), numbered(c.num, c.properties()))
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
		if err := deleteProvision(tx, collKey(c.db.id, c.id)); err != nil {
			return err
		}
		return tx.Bucket(bucketColls).Delete(collKey(c.db.id, c.id))
	}
}

// persistItems writes a committed stage: its final versions, the removal
// of the versions they replace (replaced: their LSNs), and the container's
// LSN, so a restart never reuses an LSN.
func persistItems(c *container, st *stage, replaced []uint64) func(*bolt.Tx) error {
	var puts [][2][]byte
	for _, key := range st.order {
		if d := st.changed[key]; d != nil {
			puts = append(puts, [2][]byte{lsnKey(d.lsn), encodeRecord(d)})
		}
	}
	lsn := st.lsn
	return func(tx *bolt.Tx) error {
		b := tx.Bucket(itemsBucket(c))
		if b == nil {
			return nil // the container was deleted meanwhile
		}
		b.FillPercent = 1 // keys only grow: keep pages full
		for _, old := range replaced {
			if err := b.Delete(lsnKey(old)); err != nil {
				return err
			}
		}
		for _, p := range puts {
			if err := b.Put(p[0], p[1]); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketLSN).Put([]byte(c.rid), lsnKey(lsn))
	}
}

func lsnKey(lsn uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), lsn) }

func encodeRecord(d *document) []byte {
	key := d.key()
	out := make([]byte, 0, 8+binary.MaxVarintLen64+len(key)+len(d.body))
	out = binary.BigEndian.AppendUint64(out, uint64(d.atNs))
	out = binary.AppendUvarint(out, uint64(len(key)))
	out = append(out, key...)
	return append(out, d.body...)
}
