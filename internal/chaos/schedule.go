package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/ordersflow/orderpipeline/emulators/cosmos"
	"github.com/ordersflow/orderpipeline/emulators/servicebus/sbemu"
)

// step is one injection, run once At of the orders have been accepted.
type step struct {
	At   float64 // share of the orders accepted
	What string
	do   func(ctx context.Context, r *run) error
}

// faultWindow is how long each timed fault stays in force.
const faultWindow = 8 * time.Second

// schedule is what a chaos run injects, in order.
func schedule() []step {
	return []step{
		{0.05, fmt.Sprintf("Cosmos DB: 429 on 30%% of requests to orders for %s", faultWindow),
			cosmosFault(cosmos.Fault{Container: "orders", Status: 429, Rate: 0.3, For: cosmos.Duration(faultWindow)})},
		{0.15, fmt.Sprintf("Cosmos DB: 503 on 10%% of all requests for %s", faultWindow),
			cosmosFault(cosmos.Fault{Status: 503, Rate: 0.1, For: cosmos.Duration(faultWindow)})},
		{0.25, fmt.Sprintf("Cosmos DB: +40ms on every request for %s", faultWindow),
			cosmosFault(cosmos.Fault{Latency: cosmos.Duration(40 * time.Millisecond), For: cosmos.Duration(faultWindow)})},
		{0.35, fmt.Sprintf("Service Bus: refuse connections for %s", faultWindow),
			busFault(sbemu.Fault{Kind: sbemu.RefuseConnections, For: faultWindow})},
		{0.45, "kill -9 the handler (the host starts it again)", killHandler},
		{0.60, "kill -9 the Service Bus emulator (devstack starts it again on the same port and data)", killBus},
		{0.75, "kill -9 the whole stack, then start it again on the same data", killStack},
	}
}

func cosmosFault(f cosmos.Fault) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error {
		_, err := cosmos.NewFaultClient(r.stack.endpoint, r.stack.cosmosKey(), nil).Inject(ctx, f)
		return err
	}
}

func busFault(f sbemu.Fault) func(context.Context, *run) error {
	return func(ctx context.Context, r *run) error {
		return sbemu.Control{URL: r.stack.control}.InjectFault(ctx, f)
	}
}

func killHandler(ctx context.Context, r *run) error {
	old, pid, err := r.stack.killChild(ctx, r.cfg.App+"/handler")
	r.logf("  handler pid %d killed; the host started pid %d", old, pid)
	return err
}

func killBus(ctx context.Context, r *run) error {
	old, pid, err := r.stack.killChild(ctx, "servicebus/src/main.js")
	r.logf("  Service Bus emulator pid %d killed; devstack started pid %d", old, pid)
	return err
}

func killStack(ctx context.Context, r *run) error {
	pid := r.stack.cmd.Process.Pid
	r.stack.kill()
	r.logf("  devstack pid %d and its children killed; starting it again", pid)
	if err := r.stack.start(ctx); err != nil {
		return err
	}
	r.logf("  devstack is up again (pid %d)", r.stack.cmd.Process.Pid)
	return nil
}
