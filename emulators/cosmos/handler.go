package cosmos

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

type handlerFunc func(s *Server, w http.ResponseWriter, r *http.Request, rt route) error

// handlers maps "kind method" to its handler.
var handlers = map[string]handlerFunc{
	"account GET":  (*Server).getAccount,
	"dbs POST":     (*Server).createDatabase,
	"dbs GET":      (*Server).listDatabases,
	"db GET":       (*Server).readDatabase,
	"db DELETE":    (*Server).deleteDatabase,
	"colls POST":   (*Server).createContainer,
	"colls GET":    (*Server).listContainers,
	"coll GET":     (*Server).readContainer,
	"coll PUT":     (*Server).replaceContainer,
	"coll DELETE":  (*Server).deleteContainer,
	"pkranges GET": (*Server).readPKRanges,
	"docs POST":    (*Server).postDocs,
	"docs GET":     (*Server).getDocs,
	"doc GET":      (*Server).readItem,
	"doc PUT":      (*Server).replaceItem,
	"doc DELETE":   (*Server).deleteItem,
	"doc PATCH":    (*Server).patchItem,
	"offers POST":  (*Server).queryOffers,
	"offers GET":   (*Server).listOffers,
	"offer GET":    (*Server).readOffer,
	"offer PUT":    (*Server).replaceOffer,
}

// ServeHTTP answers one Cosmos DB REST request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.inflight.enter() {
		writeError(w, newError(http.StatusServiceUnavailable, "The emulator is shutting down."))
		return
	}
	defer s.inflight.leave()
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		s.serveControl(w, r)
		return
	}
	if err := s.serve(w, r); err != nil {
		writeError(w, err)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) error {
	rt, err := parseRoute(r.URL.EscapedPath())
	if err != nil {
		return err
	}
	if err := s.auth.verify(r, rt); err != nil {
		return err
	}
	h, ok := handlers[rt.kind+" "+r.Method]
	if !ok {
		return newError(http.StatusMethodNotAllowed, "%s is not supported on %s.", r.Method, r.URL.Path)
	}
	return s.metered(w, r, rt, h)
}

// readBody reads a request body of at most a document's maximum size.
func readBody(r *http.Request) ([]byte, error) {
	const limit = maxDocumentSize + 64*1024
	if n := r.ContentLength; n > limit {
		return nil, newError(http.StatusRequestEntityTooLarge, "Request size is too large.")
	} else if n >= 0 && n <= 64<<10 { // the usual case: a buffer of its size (a large one grows as bytes come)
		body := make([]byte, n)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, errBadRequest("Cannot read the request body: %v.", err)
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, errBadRequest("Cannot read the request body: %v.", err)
	}
	if len(body) > limit {
		return nil, newError(http.StatusRequestEntityTooLarge, "Request size is too large.")
	}
	return body, nil
}

func decodeJSON(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeBody(body, v)
}

// decodeBody unmarshals a request body read by readBody.
func decodeBody(body []byte, v any) error {
	if err := unmarshal(body, v); err != nil {
		return errBadRequest("The request body is not valid JSON: %v.", err)
	}
	return nil
}

// unmarshal is json.Unmarshal through go-json-experiment's faster decoder
// under encoding/json's semantics. A body it refuses is decoded again by
// encoding/json, whose error (and result) is the one returned.
func unmarshal(body []byte, v any) error {
	if jsonv2.Unmarshal(body, v, jsonv1.DefaultOptionsV1()) == nil {
		return nil
	}
	reflect.ValueOf(v).Elem().SetZero()
	return json.Unmarshal(body, v)
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, _ route) error {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	endpoint := scheme + "://" + r.Host + "/"
	if s.opts.RegionEndpoint != "" {
		endpoint = s.opts.RegionEndpoint
	}
	region := []map[string]string{{"name": s.opts.Region, "databaseAccountEndpoint": endpoint}}
	body, _ := json.Marshal(map[string]any{
		"_self": "", "id": "localhost", "_rid": r.Host, "media": "//media/", "addresses": "//addresses/",
		"_dbs": "//dbs/", "writableLocations": region, "readableLocations": region,
		"enableMultipleWriteLocations": false,
		"userConsistencyPolicy":        map[string]string{"defaultConsistencyLevel": s.opts.Consistency},
		"systemReplicationPolicy":      map[string]int{"minReplicaSetSize": 1, "maxReplicasetSize": 1},
		"readPolicy":                   map[string]int{"primaryReadCoefficient": 1, "secondaryReadCoefficient": 1},
		"queryEngineConfiguration":     "{}",
	})
	writeJSON(w, http.StatusOK, "0", body)
	return nil
}
