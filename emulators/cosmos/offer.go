package cosmos

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// offer is the throughput provisioned on a database or a container at
// creation (x-ms-offer-throughput, or x-ms-cosmos-offer-autopilot-settings
// for autoscale). A resource without one is serverless (or, for a
// container, shares its database's offer when that has one).
type offer struct {
	Throughput   int `json:"throughput,omitempty"`   // manual RU/s
	AutoscaleMax int `json:"autoscaleMax,omitempty"` // autoscale maximum RU/s
}

const (
	hdrOfferThroughput = "x-ms-offer-throughput"
	hdrOfferAutoscale  = "x-ms-cosmos-offer-autopilot-settings"
	minManualRU        = 400
	minAutoscaleMaxRU  = 1000
	maxOfferRU         = 1_000_000 // Cosmos DB's limit without a support request
)

// ceiling is the most RU/s the offer serves: the manual figure, or the
// autoscale maximum (autoscale scales up at once, down to 10% when idle).
func (o *offer) ceiling() float64 { return float64(max(o.Throughput, o.AutoscaleMax)) }

// parseOffer reads the throughput headers of a create request; nil when
// there are none. It applies Cosmos DB's minimums and increments.
func parseOffer(h http.Header) (*offer, error) {
	manual, auto := h.Get(hdrOfferThroughput), h.Get(hdrOfferAutoscale)
	switch {
	case manual != "" && auto != "":
		return nil, errBadRequest("Specify either %s or %s, not both.", hdrOfferThroughput, hdrOfferAutoscale)
	case manual != "":
		n, err := strconv.Atoi(manual)
		if err != nil || n < minManualRU || n > maxOfferRU || n%100 != 0 {
			return nil, errBadRequest("The offer throughput %q must be a multiple of 100 from %d to %d RU/s.", manual, minManualRU, maxOfferRU)
		}
		return &offer{Throughput: n}, nil
	case auto != "":
		var s struct {
			Max int `json:"maxThroughput"`
		}
		if err := json.Unmarshal([]byte(auto), &s); err != nil || s.Max < minAutoscaleMaxRU || s.Max > maxOfferRU || s.Max%1000 != 0 {
			return nil, errBadRequest("The autoscale maximum throughput in %q must be a multiple of 1000 from %d to %d RU/s.", auto, minAutoscaleMaxRU, maxOfferRU)
		}
		return &offer{AutoscaleMax: s.Max}, nil
	}
	return nil, nil
}

// offerProperty carries a parsed offer from the create handler to
// newContainer inside the properties map; it never reaches the stored
// properties. Only an *offer value counts, which no request body decodes to.
const offerProperty = "\x00offer"

// takeOffer removes the offer the create handler put in props.
func takeOffer(props map[string]any) *offer {
	o, _ := props[offerProperty].(*offer)
	delete(props, offerProperty)
	return o
}

// Offers are kept in their own bucket, keyed like the resources:
// database id, or database id NUL container id.
var bucketOffers = []byte("offers")

func putOffer(tx *bolt.Tx, key []byte, o *offer) error {
	if o == nil {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketOffers)
	if err != nil {
		return err
	}
	v, _ := json.Marshal(o)
	return b.Put(key, v)
}

func deleteOffer(tx *bolt.Tx, key []byte) error {
	if b := tx.Bucket(bucketOffers); b != nil {
		return b.Delete(key)
	}
	return nil
}

// loadOffer reads a stored offer; nil when there is none.
func loadOffer(tx *bolt.Tx, key []byte) (*offer, error) {
	b := tx.Bucket(bucketOffers)
	if b == nil {
		return nil, nil
	}
	v := b.Get(key)
	if v == nil {
		return nil, nil
	}
	o := &offer{}
	return o, json.Unmarshal(v, o)
}

// loadOffers gives the loaded databases and containers their offers.
func (s *store) loadOffers(tx *bolt.Tx) error {
	b := tx.Bucket(bucketOffers)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, _ []byte) error {
		o, err := loadOffer(tx, k)
		if err != nil {
			return err
		}
		dbID, collID, isColl := strings.Cut(string(k), "\x00")
		d, ok := s.dbs[dbID]
		switch {
		case !ok:
		case !isColl:
			d.offer.Store(o)
		case d.colls[collID] != nil:
			d.colls[collID].offer.Store(o)
		}
		return nil
	})
}
