package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// product is one entry of GET /api/products.
type product struct {
	SKU       string `json:"sku"`
	Currency  string `json:"currency"`
	Available int    `json:"available"`
}

func fetchProducts(ctx context.Context, hc *http.Client, base string) ([]product, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/products", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("list products: %s: %s", resp.Status, b)
	}
	var body struct{ Products []product }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("decode products: %w", err)
	}
	if len(body.Products) == 0 {
		return nil, errors.New("the catalog is empty")
	}
	sort.Slice(body.Products, func(i, j int) bool { return body.Products[i].SKU < body.Products[j].SKU })
	return body.Products, nil
}

// generator makes checkout bodies: one to three lines of one or two units
// from SKUs that still have stock for them (unless exhaust), paid with an
// approving token or, with probability declined, tok_declined.
type generator struct {
	mu       sync.Mutex
	rng      *rand.Rand
	products []product
	left     map[string]int // stock not yet promised to an order
	declined float64
	exhaust  bool
}

func newGenerator(products []product, declined float64, exhaust bool, seed uint64) *generator {
	left := make(map[string]int, len(products))
	for _, p := range products {
		left[p.SKU] = p.Available
	}
	return &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), products: products,
		left: left, declined: declined, exhaust: exhaust}
}

var (
	approving = []string{"tok_visa", "tok_mastercard"}
	shipTo    = []string{`{"country":"US","region":"CA","postalCode":"94103"}`, `{"country":"US","region":"TX","postalCode":"73301"}`,
		`{"country":"US","region":"NY","postalCode":"10001"}`}
)

type line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// next returns a checkout body, or an error once no SKU has stock left.
func (g *generator) next(customer int) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	token := approving[g.rng.IntN(len(approving))]
	if g.rng.Float64() < g.declined {
		token = "tok_declined"
	}
	lines := g.lines(token != "tok_declined")
	if len(lines) == 0 {
		return nil, errors.New("every SKU's stock is promised to orders placed already (use -exhaust to sell out anyway)")
	}
	ls, _ := json.Marshal(lines)
	return fmt.Appendf(nil, `{"customerId":"bench-%d","currency":%q,"lines":%s,"shipTo":%s,"payment":{"token":%q}}`,
		customer, g.products[0].Currency, ls, shipTo[g.rng.IntN(len(shipTo))], token), nil
}

func (g *generator) lines(reserves bool) []line {
	want := 1 + g.rng.IntN(3)
	var out []line
	for _, i := range g.rng.Perm(len(g.products)) {
		p := g.products[i]
		q := 1 + g.rng.IntN(2)
		if p.Currency != g.products[0].Currency || (reserves && !g.exhaust && g.left[p.SKU] < q) {
			continue
		}
		if reserves {
			g.left[p.SKU] -= q
		}
		out = append(out, line{SKU: p.SKU, Quantity: q})
		if len(out) == want {
			break
		}
	}
	return out
}

// checkout is one POST /api/orders as the client saw it.
type checkout struct {
	start   time.Time     // when it was due (rate mode) or sent (closed loop)
	latency time.Duration // start → response
	status  int           // 0: transport error
	id      string
}

// driver places orders with C clients, closed loop or at a fixed rate.
type driver struct {
	hc      *http.Client
	base    string
	gen     *generator
	orders  int       // 0: no limit
	until   time.Time // zero: no limit
	rate    float64   // orders/s; 0: closed loop
	clients int
	keys    string       // with -keys, the prefix of each order's Idempotency-Key; empty sends none
	placed  atomic.Int64 // 202s
	failed  atomic.Int64 // everything else
	issued  atomic.Int64
	keySeq  atomic.Int64 // Idempotency-Keys sent
	genErr  atomic.Pointer[error]
}

// run places orders until the count or the time is reached and returns
// every checkout.
func (d *driver) run(ctx context.Context) []checkout {
	due := make(chan time.Time, d.clients)
	go d.schedule(ctx, due)
	results := make([][]checkout, d.clients)
	var wg sync.WaitGroup
	for c := range d.clients {
		wg.Go(func() {
			for start := range due {
				if start.IsZero() {
					start = time.Now()
				}
				if r, ok := d.place(ctx, c, start); ok {
					results[c] = append(results[c], r)
				}
			}
		})
	}
	wg.Wait()
	var all []checkout
	for _, r := range results {
		all = append(all, r...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].start.Before(all[j].start) })
	return all
}

// schedule hands out the orders to place: as fast as the clients take
// them (closed loop, zero times) or each at its due time (rate).
func (d *driver) schedule(ctx context.Context, due chan<- time.Time) {
	defer close(due)
	begin := time.Now()
	for i := 0; d.orders == 0 || i < d.orders; i++ {
		var at time.Time
		if d.rate > 0 {
			at = begin.Add(time.Duration(math.Round(float64(i) * float64(time.Second) / d.rate)))
			if wait := time.Until(at); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
		if ctx.Err() != nil || (!d.until.IsZero() && time.Now().After(d.until)) || d.genErr.Load() != nil {
			return
		}
		select {
		case due <- at:
			d.issued.Add(1)
		case <-ctx.Done():
			return
		}
	}
}

// place sends one checkout; false when there was nothing to send.
func (d *driver) place(ctx context.Context, client int, start time.Time) (checkout, bool) {
	body, err := d.gen.next(client)
	if err != nil {
		d.genErr.CompareAndSwap(nil, &err)
		return checkout{}, false
	}
	c := checkout{start: start}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/api/orders", bytes.NewReader(body))
	if err != nil {
		return c, false
	}
	req.Header.Set("Content-Type", "application/json")
	if d.keys != "" {
		req.Header.Set("Idempotency-Key", d.keys+strconv.FormatInt(d.keySeq.Add(1), 10))
	}
	resp, err := d.hc.Do(req)
	c.latency = time.Since(start)
	if err != nil {
		d.failed.Add(1)
		return c, ctx.Err() == nil
	}
	defer resp.Body.Close()
	c.status = resp.StatusCode
	var o struct{ ID string }
	if resp.StatusCode == http.StatusAccepted && json.NewDecoder(resp.Body).Decode(&o) == nil {
		c.id = o.ID
		d.placed.Add(1)
		return c, true
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	d.failed.Add(1)
	return c, true
}
