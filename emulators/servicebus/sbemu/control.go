package sbemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// FaultKind names a fault the emulator can inject.
type FaultKind string

const (
	// RefuseConnections drops every client connection and refuses new ones.
	RefuseConnections FaultKind = "refuse-connections"
	// DetachLinks detaches every sender and receiver link with
	// amqp:link:detach-forced and refuses new ones ($cbs and $management
	// links stay).
	DetachLinks FaultKind = "detach-links"
	// DelaySettlements holds each settlement (complete, abandon, defer,
	// dead-letter) for Delay before applying and answering it.
	DelaySettlements FaultKind = "delay-settlements"
	// FailSettlements answers a share (Rate) of settlements with an error
	// (Condition) without applying them: the message stays locked.
	FailSettlements FaultKind = "fail-settlements"
)

// Fault is one fault, in force for For from when it is injected.
type Fault struct {
	Kind FaultKind
	For  time.Duration
	// Delay is for DelaySettlements.
	Delay time.Duration
	// Rate is for FailSettlements: the share of settlements that fail, in
	// (0, 1]; 0 means every settlement.
	Rate float64
	// Condition is for FailSettlements: com.microsoft:server-busy (the
	// default; the SDK retries it), amqp:internal-error or
	// com.microsoft:message-lock-lost.
	Condition string
}

type wireFault struct {
	Kind      FaultKind `json:"kind"`
	Seconds   float64   `json:"seconds"`
	DelayMs   float64   `json:"delayMs,omitempty"`
	Rate      float64   `json:"rate,omitempty"`
	Condition string    `json:"condition,omitempty"`
	Until     int64     `json:"until,omitempty"`
}

// ActiveFault is a fault in force and when it ends.
type ActiveFault struct {
	Fault
	Until time.Time
}

// FaultReport is what the control endpoint says about faults.
type FaultReport struct {
	Active   []ActiveFault
	Injected map[FaultKind]int // how often each kind was injected since start
}

// Control is a client of an emulator's control endpoint, for an emulator
// this process did not start (devstack prints SERVICEBUS_CONTROL_URL).
type Control struct {
	URL string // base URL, e.g. http://127.0.0.1:41234
}

// Control is the client of this emulator's control endpoint.
func (e *Emulator) Control() Control { return Control{URL: e.controlURL} }

// InjectFault puts f in force; a fault of the same kind replaces the one before.
func (e *Emulator) InjectFault(ctx context.Context, f Fault) error {
	return e.Control().InjectFault(ctx, f)
}

// ClearFaults ends every fault now.
func (e *Emulator) ClearFaults(ctx context.Context) error { return e.Control().ClearFaults(ctx) }

// Faults reports the faults in force and how many were injected.
func (e *Emulator) Faults(ctx context.Context) (FaultReport, error) { return e.Control().Faults(ctx) }

// Entities reports every entity by path (see Control.Entities).
func (e *Emulator) Entities(ctx context.Context) (map[string]EntityStats, error) {
	return e.Control().Entities(ctx)
}

var errNoControl = errors.New("service bus emulator: no control endpoint (start it WithFaultControl)")

// InjectFault puts f in force; a fault of the same kind replaces the one before.
func (c Control) InjectFault(ctx context.Context, f Fault) error {
	w := wireFault{Kind: f.Kind, Seconds: f.For.Seconds(), Condition: f.Condition, Rate: f.Rate}
	if f.Delay > 0 {
		w.DelayMs = float64(f.Delay.Milliseconds())
	}
	body, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("encode fault: %w", err)
	}
	return c.control(ctx, http.MethodPost, body, http.StatusCreated, nil)
}

// ClearFaults ends every fault now.
func (c Control) ClearFaults(ctx context.Context) error {
	return c.control(ctx, http.MethodDelete, nil, http.StatusNoContent, nil)
}

// Faults reports the faults in force and how many were injected.
func (c Control) Faults(ctx context.Context) (FaultReport, error) {
	var resp struct {
		Faults   []wireFault       `json:"faults"`
		Injected map[FaultKind]int `json:"injected"`
	}
	if err := c.control(ctx, http.MethodGet, nil, http.StatusOK, &resp); err != nil {
		return FaultReport{}, err
	}
	r := FaultReport{Injected: resp.Injected}
	for _, w := range resp.Faults {
		f := Fault{Kind: w.Kind, For: time.Duration(w.Seconds * float64(time.Second)),
			Delay: time.Duration(w.DelayMs) * time.Millisecond, Rate: w.Rate, Condition: w.Condition}
		r.Active = append(r.Active, ActiveFault{Fault: f, Until: time.UnixMilli(w.Until)})
	}
	return r, nil
}

// EntityStats counts one entity's messages by state, its receivers and the
// accept-next-session requests waiting on it. Topics report only Scheduled.
type EntityStats struct {
	Messages       int `json:"messages"`
	Active         int `json:"active"`
	Locked         int `json:"locked"`
	Deferred       int `json:"deferred"`
	Scheduled      int `json:"scheduled"`
	Receivers      int `json:"receivers"`
	SessionWaiters int `json:"sessionWaiters"`
}

// Entities reports every entity by path (queue, topic/Subscriptions/sub,
// and their .../$DeadLetterQueue).
func (c Control) Entities(ctx context.Context) (map[string]EntityStats, error) {
	var out map[string]EntityStats
	if err := c.controlAt(ctx, "/entities", http.MethodGet, nil, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c Control) control(ctx context.Context, method string, body []byte, want int, out any) error {
	return c.controlAt(ctx, "/faults", method, body, want, out)
}

func (c Control) controlAt(ctx context.Context, path, method string, body []byte, want int, out any) error {
	if c.URL == "" {
		return errNoControl
	}
	url := c.URL + path
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("control request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read reply: %w", method, url, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode reply: %w", method, url, err)
	}
	return nil
}
