package cosmos

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

func TestGarbageIsDueInLSNOrderUnlessTaken(t *testing.T) {
	var g garbage
	g.add("k1", 1)
	g.add("k2", 7)
	g.add("k1", 3)
	g.add("k3", 2)
	assert.Empty(t, g.due(1+garbageHorizon), "nothing is more than garbageHorizon LSNs old yet")
	assert.Equal(t, []uint64{1, 3}, g.take("k1"))
	assert.Nil(t, g.take("k1"))
	assert.Equal(t, []uint64{2}, g.due(5+garbageHorizon), "taken versions are not due again")
	assert.Equal(t, []uint64{7}, g.take("k2"))
	assert.Empty(t, g.byKey)
	assert.Empty(t, g.due(100+garbageHorizon))
	assert.Zero(t, g.oldest.Len())
}

// durableStore is a store on dir with one container "c" partitioned by /pk.
func durableStore(t *testing.T, dir string, create bool) (*store, *container) {
	t.Helper()
	st, err := openStore(dir)
	require.NoError(t, err)
	if create {
		_, err = st.createDatabase("db", nil)
		require.NoError(t, err)
		props := map[string]any{"id": "c", "partitionKey": map[string]any{"paths": []any{"/pk"}}}
		_, err = st.createContainer("db", props, nil)
		require.NoError(t, err)
	}
	c, err := st.container("db", "c")
	require.NoError(t, err)
	return st, c
}

// write runs the operations (kind, id, n: the item's "n") on partition "p".
func write(t *testing.T, c *container, ops ...itemOp) {
	t.Helper()
	pk, _, err := parsePKHeaderFor(`["p"]`, c.pk)
	require.NoError(t, err)
	res, err := c.execute(context.Background(), pk, ops)
	require.NoError(t, err)
	for _, r := range res {
		require.Nil(t, r.err)
	}
}

func put(t *testing.T, kind, id string, n int) itemOp {
	t.Helper()
	it, err := decodeItem(fmt.Appendf(nil, `{"id":%q,"pk":"p","n":%d}`, id, n))
	require.NoError(t, err)
	return itemOp{kind: kind, id: id, item: it}
}

// versionsInFile counts the records of each item in the container's file.
func versionsInFile(t *testing.T, dir, rid string) map[string]int {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "cosmos.db"), 0o600, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	out := map[string]int{}
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("items/" + rid)).ForEach(func(k, v []byte) error {
			d, err := decodeRecord(k, v)
			if err == nil {
				out[d.id]++
			}
			return err
		})
	}))
	return out
}

// TestReplacedVersionsLeaveTheFileAfterTheHorizon checks what a restart
// finds while replaced versions are still in the file: the last version
// of each item, and nothing of an item deleted while its replaced versions
// were waiting (it would reappear if its delete left them behind); and
// that the replaced versions go once garbageHorizon LSNs old.
func TestReplacedVersionsLeaveTheFileAfterTheHorizon(t *testing.T) {
	dir := t.TempDir()
	st, c := durableStore(t, dir, true)
	write(t, c, put(t, "Create", "a", 1), put(t, "Create", "b", 1))
	write(t, c, put(t, "Replace", "a", 2), put(t, "Replace", "b", 2))
	write(t, c, put(t, "Upsert", "a", 3))
	write(t, c, itemOp{kind: "Delete", id: "b"})
	rid := c.rid
	require.NoError(t, st.journal.close())
	assert.Equal(t, map[string]int{"a": 3}, versionsInFile(t, dir, rid), "replaced versions wait; a delete takes every version")

	st, c = durableStore(t, dir, false)
	d, err := c.read(context.Background(), `["p"]`, "a")
	require.NoError(t, err)
	assert.Equal(t, 3.0, d.value()["n"])
	_, err = c.read(context.Background(), `["p"]`, "b")
	assert.Error(t, err, "a deleted item stays deleted")
	page, err := c.readFeed(feedQuery{maxItems: -1})
	require.NoError(t, err)
	require.Len(t, page.docs, 1, "the change feed holds the last version only")
	assert.Equal(t, "a", page.docs[0].id)

	for i := range 2 * garbageHorizon / 100 {
		ops := make([]itemOp, 100)
		for j := range ops {
			ops[j] = put(t, "Upsert", fmt.Sprintf("filler-%d", j), i)
		}
		write(t, c, ops...)
	}
	write(t, c, put(t, "Replace", "a", 4))
	require.NoError(t, st.journal.close())
	versions := versionsInFile(t, dir, rid)
	assert.Equal(t, 1, versions["a"], "a's versions older than the horizon are gone")
	records := 0
	for _, n := range versions {
		records += n
	}
	assert.LessOrEqual(t, records, 1+100+garbageHorizon, "the fillers' replaced versions but the last horizon's are gone")
	assert.Greater(t, records, 1+100, "the last horizon's wait")

	st, c = durableStore(t, dir, false)
	defer func() { require.NoError(t, st.journal.close()) }()
	d, err = c.read(context.Background(), `["p"]`, "a")
	require.NoError(t, err)
	assert.Equal(t, 4.0, d.value()["n"])
}
