package cosmos

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Layout of the bbolt file:
//
//	meta                 "rid" → last resource number (uint32)
//	dbs                  database id → number (uint32) + properties JSON
//	colls                database id NUL container id → number (uint32) + properties JSON
//	lsn                  container rid → last LSN (uint64)
//	routing              container rid → partition key ranges (routing JSON)
//	offers               offer id → offer JSON
//	items/<container rid> LSN (uint64) → commit ns (int64) + key length (uvarint) +
//	                     partition key JSON NUL item id + item JSON
//
// Items are keyed by the LSN of their latest version, so the items bucket
// is append-mostly (cheap commits) and loads in change feed order. A
// replaced version stays until it is garbageHorizon LSNs old (garbage.go):
// the newer version shadows it on load. A delete removes every version.
var (
	bucketMeta    = []byte("meta")
	bucketDBs     = []byte("dbs")
	bucketColls   = []byte("colls")
	bucketLSN     = []byte("lsn")
	bucketRouting = []byte("routing")
	bucketOffers  = []byte("offers")
	keyRID        = []byte("rid")
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

func persistDatabase(d *database, o *offer, seq uint32) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		if err := putRIDSeq(tx, seq); err != nil {
			return err
		}
		if err := putOffer(tx, o); err != nil {
			return err
		}
		return tx.Bucket(bucketDBs).Put([]byte(d.id), numbered(d.num, d.body))
	}
}

// putOffer writes an offer; a nil offer writes nothing.
func putOffer(tx *bolt.Tx, o *offer) error {
	if o == nil {
		return nil
	}
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketOffers).Put([]byte(o.ID), b)
}

// persistOffer writes a replaced offer and the routing of the containers
// it split.
func persistOffer(o *offer, grown []*container) func(*bolt.Tx) error {
	routes := make([]func(*bolt.Tx) error, len(grown))
	for i, c := range grown {
		routes[i] = persistRouting(c)
	}
	return func(tx *bolt.Tx) error {
		for _, put := range routes {
			if err := put(tx); err != nil {
				return err
			}
		}
		return putOffer(tx, o)
	}
}

// persistRouting writes a container's current partition key ranges.
func persistRouting(c *container) func(*bolt.Tx) error {
	b, err := json.Marshal(c.routing())
	return func(tx *bolt.Tx) error {
		if err != nil {
			return err
		}
		return tx.Bucket(bucketRouting).Put([]byte(c.rid), b)
	}
}

// deleteOffersOf removes the offer of the resource with the given rid.
func deleteOffersOf(tx *bolt.Tx, rid string) error {
	b := tx.Bucket(bucketOffers)
	var doomed [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var o offer
		if json.Unmarshal(v, &o) == nil && o.ResourceRID == rid {
			doomed = append(doomed, slices.Clone(k))
		}
		return nil
	})
	for _, k := range doomed {
		err = errors.Join(err, b.Delete(k))
	}
	return err
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
		if err := deleteOffersOf(tx, d.rid); err != nil {
			return err
		}
		return tx.Bucket(bucketDBs).Delete([]byte(d.id))
	}
}

// persistNewContainer writes a new container with its offer and ranges.
func persistNewContainer(c *container, o *offer, seq uint32) func(*bolt.Tx) error {
	props, routing := persistContainer(c, seq), persistRouting(c)
	return func(tx *bolt.Tx) error {
		if err := props(tx); err != nil {
			return err
		}
		if err := routing(tx); err != nil {
			return err
		}
		return putOffer(tx, o)
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
		return tx.Bucket(bucketColls).Put(collKey(c.db.id, c.id), numbered(c.num, c.properties()))
	}
}

func unpersistContainer(c *container) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(itemsBucket(c)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		if err := tx.Bucket(bucketLSN).Delete([]byte(c.rid)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRouting).Delete([]byte(c.rid)); err != nil {
			return err
		}
		if err := deleteOffersOf(tx, c.rid); err != nil {
			return err
		}
		return tx.Bucket(bucketColls).Delete(collKey(c.db.id, c.id))
	}
}

// persistItems writes a committed stage: its final versions, the removal
// of the versions doomed (their LSNs), and the container's LSN, so a
// restart never reuses an LSN.
func persistItems(c *container, st *stage, doomed []uint64) func(*bolt.Tx) error {
	var puts [][2][]byte
	for _, ch := range st.changes {
		if d := ch.doc; d != nil {
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
		for _, old := range doomed {
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
