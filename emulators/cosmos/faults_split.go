package cosmos

import (
	"errors"
	"fmt"
	"time"
)

// A split fault splits a partition key range of a container, at once or
// after a delay, as Cosmos DB does when a partition outgrows its storage
// or throughput: clients then see 410/1002 for the old range and must
// reroute to its children.

// splitFault is an injected split, pending (timer set) or done.
type splitFault struct {
	state FaultState
	timer *time.Timer
}

func (f Fault) validateSplit() error {
	switch {
	case !f.Split:
		return errors.New("range and after are fields of a split fault")
	case f.Container == "":
		return errors.New("a split fault names a container")
	case f.Op != "" || f.Status != 0 || f.Rate != 0 || f.Latency != 0 || f.For != 0 || f.RetryAfter != 0:
		return errors.New("a split fault has only a container, a range and an after")
	case f.After < 0:
		return errors.New("fault durations must not be negative")
	}
	return nil
}

// injectSplit validates and records a split fault, then splits at once
// (an error if it cannot) or arms a timer to (a failure is then recorded
// in its state).
func (s *Server) injectSplit(f Fault) (FaultState, error) {
	if err := f.validate(); err != nil {
		return FaultState{}, err
	}
	fs := s.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.splits) >= maxFaults {
		return FaultState{}, fmt.Errorf("at most %d split faults at a time", maxFaults)
	}
	fs.nextID++
	sf := &splitFault{state: FaultState{Fault: f, ID: fs.nextID}}
	if f.After == 0 {
		if s.runSplit(sf); sf.state.Error != "" {
			return FaultState{}, errors.New(sf.state.Error)
		}
		fs.splits = append(fs.splits, sf)
		return sf.state, nil
	}
	fs.splits = append(fs.splits, sf)
	until := fs.now().Add(time.Duration(f.After))
	sf.state.Until = &until
	sf.timer = time.AfterFunc(time.Duration(f.After), func() {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		if sf.timer != nil { // not cleared meanwhile
			s.runSplit(sf)
		}
	})
	return sf.state, nil
}

// runSplit performs a split fault and records its outcome; the caller
// holds s.faults.mu.
func (s *Server) runSplit(sf *splitFault) {
	sf.timer = nil
	res, err := s.splitNamed(sf.state.Container, sf.state.Range)
	sf.state.Splits = res
	if err != nil {
		sf.state.Error = err.Error()
	}
}

// splitNamed splits range rangeID ("" = the widest) of every container
// with id coll.
func (s *Server) splitNamed(coll, rangeID string) ([]SplitResult, error) {
	var out []SplitResult
	for _, c := range s.store.containersNamed(coll) {
		id := rangeID
		if id == "" {
			id = c.routing().widest(c.pk).ID
		}
		res, err := s.Split(c.db.id, coll, id)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no container %s to split", coll)
	}
	return out, nil
}

// containersNamed returns the containers with id coll, in every database.
func (st *store) containersNamed(coll string) []*container {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []*container
	for _, id := range sortedKeys(st.dbs) {
		if c := st.dbs[id].colls[coll]; c != nil {
			out = append(out, c)
		}
	}
	return out
}
