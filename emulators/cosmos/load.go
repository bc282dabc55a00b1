package cosmos

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openStore opens (or creates) the data directory's store and loads it.
func openStore(dir string) (*store, error) {
	return openStoreTimeout(dir, 5*time.Second)
}

// openStoreTimeout waits up to timeout for another process's lock.
func openStoreTimeout(dir string, timeout time.Duration) (*store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, "cosmos.db"), 0o600, &bolt.Options{
		Timeout:         timeout,
		NoFreelistSync:  true, // rebuilt on open; one page less to write per commit
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 1 << 30, // address space only; avoids remapping as the file grows
	})
	if err != nil {
		return nil, fmt.Errorf("open store in %s (is another emulator using it?): %w", dir, err)
	}
	s := newStore()
	if err := db.Update(func(tx *bolt.Tx) error { return s.load(tx) }); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("load store: %w", err)
	}
	s.journal = newJournal(db)
	for _, d := range s.dbs {
		for _, c := range d.colls {
			c.journal = s.journal
		}
	}
	return s, nil
}

func (s *store) load(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketDBs, bucketColls, bucketLSN, bucketRouting, bucketOffers} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	if v := tx.Bucket(bucketMeta).Get(keyRID); len(v) == 4 {
		s.ridSeq = binary.BigEndian.Uint32(v)
	}
	err := tx.Bucket(bucketDBs).ForEach(func(k, v []byte) error {
		return s.loadDatabase(string(k), v)
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketColls).ForEach(func(k, v []byte) error {
		return s.loadContainer(tx, string(k), v)
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketOffers).ForEach(func(k, v []byte) error {
		var o offer
		if err := json.Unmarshal(v, &o); err != nil {
			return fmt.Errorf("offer %s: %w", k, err)
		}
		s.offers[o.ID] = &o
		s.attachOffer(&o)
		return nil
	})
	if err != nil {
		return err
	}
	return s.markDefaultOffers(tx)
}

// keyOfferDefaults marks a store whose offers say whether they are the
// display default of a container created without throughput.
var keyOfferDefaults = []byte("offerDefaults")

// markDefaultOffers upgrades a store written before offers said so (when
// nothing was throttled): a container's never-replaced 400 RU/s offer is
// taken for the default, so the local stack's serverless containers stay
// unthrottled.
func (s *store) markDefaultOffers(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta.Get(keyOfferDefaults) != nil {
		return nil
	}
	for _, o := range s.offers {
		if o.Seq == 1 && o.Throughput.Manual == defaultThroughput && strings.Contains(o.Resource, "/colls/") {
			o.Default = true
			if err := putOffer(tx, o); err != nil {
				return err
			}
		}
	}
	return meta.Put(keyOfferDefaults, []byte{1})
}

func (s *store) loadDatabase(id string, v []byte) error {
	if len(v) < 4 {
		return fmt.Errorf("database %s: short record", id)
	}
	d := newDatabase(id, binary.BigEndian.Uint32(v), 0)
	d.body = slices.Clone(v[4:])
	var props struct {
		ETag string `json:"_etag"`
	}
	_ = json.Unmarshal(d.body, &props)
	d.etag = props.ETag
	s.dbs[id] = d
	return nil
}

func (s *store) loadContainer(tx *bolt.Tx, key string, v []byte) error {
	dbID, id, _ := strings.Cut(key, "\x00")
	d, ok := s.dbs[dbID]
	if !ok || len(v) < 4 {
		return fmt.Errorf("container %s: orphan or short record", key)
	}
	var props map[string]any
	if err := json.Unmarshal(v[4:], &props); err != nil {
		return fmt.Errorf("container %s: %w", key, err)
	}
	c, err := newContainer(d, binary.BigEndian.Uint32(v), props, 0)
	if err != nil {
		return fmt.Errorf("container %s: %w", key, err)
	}
	c.setProperties(slices.Clone(v[4:]))
	c.clock = s.clock
	if err := c.loadRouting(tx); err != nil {
		return fmt.Errorf("container %s: %w", key, err)
	}
	if err := c.loadItems(tx); err != nil {
		return fmt.Errorf("container %s: %w", key, err)
	}
	d.colls[id] = c
	return nil
}

// loadRouting restores the container's ranges; a data directory written
// before the emulator had ranges holds one.
func (c *container) loadRouting(tx *bolt.Tx) error {
	v := tx.Bucket(bucketRouting).Get([]byte(c.rid))
	if v == nil {
		return nil
	}
	var rt routing
	if err := json.Unmarshal(v, &rt); err != nil {
		return fmt.Errorf("partition key ranges: %w", err)
	}
	if rt.Gone == nil {
		rt.Gone = map[string][]string{}
	}
	c.routes.Store(&rt)
	return nil
}

func (c *container) loadItems(tx *bolt.Tx) error {
	if v := tx.Bucket(bucketLSN).Get([]byte(c.rid)); len(v) == 8 {
		c.lsn = binary.BigEndian.Uint64(v)
	}
	b := tx.Bucket(itemsBucket(c))
	if b == nil {
		return nil
	}
	err := b.ForEach(func(k, v []byte) error { // in LSN order
		d, err := decodeRecord(k, v)
		if err != nil {
			return err
		}
		d.epk = c.pk.pkeyFromKey(d.pk).epk
		if old, ok := c.docs[d.key()]; ok { // garbage left by a replace
			c.feed.kill(old)
			c.garbage.add(d.key(), old.lsn)
		}
		c.docs[d.key()] = d
		c.feed.append(c.routing(), d)
		c.lsn = max(c.lsn, d.lsn)
		return nil
	})
	c.durable.moveTo(c.lsn)
	return err
}

func decodeRecord(k, v []byte) (*document, error) {
	if len(k) != 8 || len(v) < 9 {
		return nil, fmt.Errorf("item %x: short record", k)
	}
	d := &document{lsn: binary.BigEndian.Uint64(k), atNs: int64(binary.BigEndian.Uint64(v[:8]))}
	keyLen, n := binary.Uvarint(v[8:])
	start := 8 + n
	if n <= 0 || uint64(len(v)-start) < keyLen {
		return nil, fmt.Errorf("item %d: bad key length", d.lsn)
	}
	d.pk, d.id = splitDocKey(string(v[start : start+int(keyLen)]))
	d.body = slices.Clone(v[start+int(keyLen):])
	if err := json.Unmarshal(d.body, &d.decodedValue); err != nil {
		return nil, fmt.Errorf("item %d: %w", d.lsn, err)
	}
	d.rid, _ = d.decodedValue["_rid"].(string)
	d.etag, _ = d.decodedValue["_etag"].(string)
	ts, _ := d.decodedValue["_ts"].(float64)
	d.ts, d.ttl = int64(ts), storedTTL(d.decodedValue)
	return d, nil
}
