package cosmos

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// provision is the throughput provisioned on a database or a container at
// creation (x-ms-offer-throughput, or x-ms-cosmos-offer-autopilot-settings
// for autoscale). A resource without one is serverless (or, for a
// container, shares its database's offer when that has one).
type provision struct {
	Throughput   int `json:"throughput,omitempty"`   // manual RU/s
	AutoscaleMax int `json:"autoscaleMax,omitempty"` // autoscale maximum RU/s
}

const (
	hdrProvisionManual    = "x-ms-offer-throughput"
	hdrProvisionAutoscale = "x-ms-cosmos-offer-autopilot-settings"
	minManualRU           = 400
	minAutoscaleMaxRU     = 1000
	maxProvisionRU        = 1_000_000 // Cosmos DB's limit without a support request
)

// ceiling is the most RU/s the offer serves: the manual figure, or the
// autoscale maximum (autoscale scales up at once, down to 10% when idle).
func (o *provision) ceiling() float64 { return float64(max(o.Throughput, o.AutoscaleMax)) }

// parseProvision reads the throughput headers of a create request; nil when
// there are none. It applies Cosmos DB's minimums and increments.
func parseProvision(h http.Header) (*provision, error) {
	manual, auto := h.Get(hdrProvisionManual), h.Get(hdrProvisionAutoscale)
	switch {
	case manual != "" && auto != "":
		return nil, errBadRequest("Specify either %s or %s, not both.", hdrProvisionManual, hdrProvisionAutoscale)
	case manual != "":
		n, err := strconv.Atoi(manual)
		if err != nil || n < minManualRU || n > maxProvisionRU || n%100 != 0 {
			return nil, errBadRequest("The offer throughput %q must be a multiple of 100 from %d to %d RU/s.", manual, minManualRU, maxProvisionRU)
		}
		return &provision{Throughput: n}, nil
	case auto != "":
		var s struct {
			Max int `json:"maxThroughput"`
		}
		if err := json.Unmarshal([]byte(auto), &s); err != nil || s.Max < minAutoscaleMaxRU || s.Max > maxProvisionRU || s.Max%1000 != 0 {
			return nil, errBadRequest("The autoscale maximum throughput in %q must be a multiple of 1000 from %d to %d RU/s.", auto, minAutoscaleMaxRU, maxProvisionRU)
		}
		return &provision{AutoscaleMax: s.Max}, nil
	}
	return nil, nil
}

// provisionProperty carries a parsed offer from the create handler to
// newContainer inside the properties map; it never reaches the stored
// properties. Only a *provision value counts, which no request body decodes to.
const provisionProperty = "\x00provision"

// takeProvision removes the offer the create handler put in props.
func takeProvision(props map[string]any) *provision {
	o, _ := props[provisionProperty].(*provision)
	delete(props, provisionProperty)
	return o
}

// Provisioned throughput is kept in its own bucket ("throughput"), keyed
// like the resources: database id, or database id NUL container id.
var bucketProvisions = []byte("throughput")

func putProvision(tx *bolt.Tx, key []byte, o *provision) error {
	if o == nil {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketProvisions)
	if err != nil {
		return err
	}
	v, _ := json.Marshal(o)
	return b.Put(key, v)
}

func deleteProvision(tx *bolt.Tx, key []byte) error {
	if b := tx.Bucket(bucketProvisions); b != nil {
		return b.Delete(key)
	}
	return nil
}

// loadProvision reads a stored offer; nil when there is none.
func loadProvision(tx *bolt.Tx, key []byte) (*provision, error) {
	b := tx.Bucket(bucketProvisions)
	if b == nil {
		return nil, nil
	}
	v := b.Get(key)
	if v == nil {
		return nil, nil
	}
	o := &provision{}
	return o, json.Unmarshal(v, o)
}

// loadProvisions gives the loaded databases and containers their offers.
func (s *store) loadProvisions(tx *bolt.Tx) error {
	b := tx.Bucket(bucketProvisions)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, _ []byte) error {
		o, err := loadProvision(tx, k)
		if err != nil {
			return err
		}
		dbID, collID, isColl := strings.Cut(string(k), "\x00")
		d, ok := s.dbs[dbID]
		switch {
		case !ok:
		case !isColl:
			d.provision.Store(o)
		case d.colls[collID] != nil:
			d.colls[collID].provision.Store(o)
		}
		return nil
	})
}
