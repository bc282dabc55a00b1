package cosmos

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Throughput, as Cosmos DB provisions it: manual RU/s or an autoscale
// maximum, on a database (shared by its containers) or a container. Each
// physical partition serves at most 10,000 RU/s, so a container gets
// ⌈RU/s ÷ 10,000⌉ partitions (autoscale: of its maximum), and raising the
// throughput past a multiple of 10,000 splits partitions.
const (
	ruPerPartition      = 10000
	defaultThroughput   = 400
	minManualThroughput = 400
	minAutoscaleMax     = 1000
	maxThroughput       = 1000000 // the emulator's limit: 100 partitions
	hdrOfferThroughput  = "x-ms-offer-throughput"
	hdrOfferAutoscale   = "x-ms-cosmos-offer-autopilot-settings"
	hdrOfferPending     = "x-ms-offer-replace-pending"
	hdrMinThroughput    = "x-ms-cosmos-min-throughput"
)

// throughput is a manual or autoscale setting; exactly one of manual and
// autoMax is set.
type throughput struct {
	Manual    int `json:"manual,omitempty"`
	AutoMax   int `json:"autoMax,omitempty"`
	Increment int `json:"increment,omitempty"` // autoscale auto-upgrade percent
}

// partitions is the number of physical partitions the throughput needs.
func (t throughput) partitions() int {
	ru := max(t.Manual, t.AutoMax)
	return max(1, (ru+ruPerPartition-1)/ruPerPartition)
}

func (t throughput) validate() error {
	switch {
	case t.AutoMax == 0 && (t.Manual < minManualThroughput || t.Manual > maxThroughput || t.Manual%100 != 0):
		return errBadRequest("The offer throughput %d is invalid: it must be a multiple of 100 between %d and %d RU/s.", t.Manual, minManualThroughput, maxThroughput)
	case t.Manual == 0 && (t.AutoMax < minAutoscaleMax || t.AutoMax > maxThroughput || t.AutoMax%1000 != 0):
		return errBadRequest("The autoscale maximum throughput %d is invalid: it must be a multiple of 1000 between %d and %d RU/s.", t.AutoMax, minAutoscaleMax, maxThroughput)
	case t.Manual != 0 && t.AutoMax != 0:
		return errBadRequest("An offer is either manual or autoscale, not both.")
	}
	return nil
}

// autoscaleSettings is the JSON of x-ms-cosmos-offer-autopilot-settings
// and of an offer's offerAutopilotSettings.
type autoscaleSettings struct {
	MaxThroughput     int `json:"maxThroughput"`
	AutoUpgradePolicy *struct {
		ThroughputPolicy *struct {
			IncrementPercent int `json:"incrementPercent"`
		} `json:"throughputPolicy,omitempty"`
	} `json:"autoUpgradePolicy,omitempty"`
}

func (a autoscaleSettings) throughput() throughput {
	t := throughput{AutoMax: a.MaxThroughput}
	if a.AutoUpgradePolicy != nil && a.AutoUpgradePolicy.ThroughputPolicy != nil {
		t.Increment = a.AutoUpgradePolicy.ThroughputPolicy.IncrementPercent
	}
	return t
}

// throughputHeaders reads the throughput a create request provisions;
// nil when it provisions none.
func throughputHeaders(r *http.Request) (*throughput, error) {
	manual, auto := r.Header.Get(hdrOfferThroughput), r.Header.Get(hdrOfferAutoscale)
	var t throughput
	switch {
	case manual != "" && auto != "":
		return nil, errBadRequest("Specify either %s or %s, not both.", hdrOfferThroughput, hdrOfferAutoscale)
	case manual != "":
		n, err := strconv.Atoi(manual)
		if err != nil {
			return nil, errBadRequest("%s %q is not a number.", hdrOfferThroughput, manual)
		}
		t.Manual = n
	case auto != "":
		var a autoscaleSettings
		if err := json.Unmarshal([]byte(auto), &a); err != nil {
			return nil, errBadRequest("%s is not valid JSON: %v.", hdrOfferAutoscale, err)
		}
		t = a.throughput()
	default:
		return nil, nil
	}
	return &t, t.validate()
}

// offer is the throughput provisioned on one database or container.
type offer struct {
	ID          string     `json:"id"`
	Resource    string     `json:"resource"`        // the resource's _self
	ResourceRID string     `json:"offerResourceId"` // the resource's _rid
	Throughput  throughput `json:"throughput"`
	Seq         uint64     `json:"seq"` // bumped by every replace; makes the etag
	TS          int64      `json:"ts"`
}

func newOffer(num uint32, self, rid string, t throughput) *offer {
	return &offer{ID: strconv.FormatUint(uint64(num), 36), Resource: self, ResourceRID: rid, Throughput: t, Seq: 1, TS: time.Now().Unix()}
}

func (o *offer) etag() string { return fmt.Sprintf("\"offer-%s-%d\"", o.ID, o.Seq) }

// body is the offer as Cosmos DB serves it.
func (o *offer) body() []byte {
	content := map[string]any{}
	if o.Throughput.Manual > 0 {
		content["offerThroughput"] = o.Throughput.Manual
	} else {
		auto := map[string]any{"maxThroughput": o.Throughput.AutoMax}
		if o.Throughput.Increment > 0 {
			auto["autoUpgradePolicy"] = map[string]any{"throughputPolicy": map[string]any{"incrementPercent": o.Throughput.Increment}}
		}
		content["offerAutopilotSettings"] = auto
	}
	b, _ := json.Marshal(map[string]any{
		"id": o.ID, "_rid": o.ID, "_self": "offers/" + o.ID + "/", "_etag": o.etag(), "_ts": o.TS,
		"resource": o.Resource, "offerResourceId": o.ResourceRID, "offerType": "Invalid", "offerVersion": "V2",
		"content": content,
	})
	return b
}

// minThroughput is what the offer could be lowered to.
func (o *offer) minThroughput() int {
	if o.Throughput.AutoMax > 0 {
		return minAutoscaleMax
	}
	return minManualThroughput
}

// offerReplacement is the body of PUT offers/{id}: the offer read, with
// new content.
type offerReplacement struct {
	ID      string `json:"id"`
	Content struct {
		OfferThroughput int                `json:"offerThroughput"`
		Autoscale       *autoscaleSettings `json:"offerAutopilotSettings"`
	} `json:"content"`
}

func (b offerReplacement) throughput() throughput {
	if b.Content.Autoscale != nil {
		return b.Content.Autoscale.throughput()
	}
	return throughput{Manual: b.Content.OfferThroughput}
}

func (s *Server) queryOffers(w http.ResponseWriter, r *http.Request, _ route) error {
	if !isQuery(r) {
		return newError(http.StatusMethodNotAllowed, "Offers are created with their database or container.")
	}
	return queryResources(w, r, "Offers", s.store.listOffers())
}

func (s *Server) listOffers(w http.ResponseWriter, _ *http.Request, _ route) error {
	writeJSON(w, http.StatusOK, "1", feedBody("", "Offers", s.store.listOffers()))
	return nil
}

func (s *Server) readOffer(w http.ResponseWriter, r *http.Request, rt route) error {
	o, err := s.store.offer(rt.id)
	if err != nil {
		return err
	}
	writeOffer(w, o)
	return nil
}

func (s *Server) replaceOffer(w http.ResponseWriter, r *http.Request, rt route) error {
	var body offerReplacement
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.ID != "" && body.ID != rt.id {
		return errBadRequest("The offer id in the body (%q) does not match the request (%q).", body.ID, rt.id)
	}
	o, err := s.store.replaceOffer(rt.id, body.throughput(), r.Header.Get("If-Match"))
	if err != nil {
		return err
	}
	writeOffer(w, o)
	return nil
}

func writeOffer(w http.ResponseWriter, o *offer) {
	h := w.Header()
	h.Set("etag", o.etag())
	h.Set(hdrOfferPending, "false")
	h.Set(hdrMinThroughput, strconv.Itoa(o.minThroughput()))
	writeJSON(w, http.StatusOK, "1", o.body())
}
