package cosmos

import (
	"os"
	"runtime"
	"runtime/debug"
)

// MinProcs is the GOMAXPROCS TuneRuntime raises the runtime to. A durable
// commit blocks its OS thread in pwrite/fdatasync and the Go scheduler
// hands that thread's P to other goroutines only after a delay; with 2 Ps
// that starves the request handlers for much of every commit, halving
// durable throughput on a 2-core machine. Extra Ps hide it.
const MinProcs = 4

// gcPercent is the GOGC TuneRuntime sets unless GOGC is in the environment:
// the emulator and the SDK allocate a lot per request, memory is cheap and
// a collection every 4x growth instead of 2x halves the time spent in GC.
const gcPercent = 400

// TuneRuntime configures the Go runtime for serving the emulator. It is
// process-wide, so only main packages (cmd/cosmos-emulator,
// cmd/cosmos-bench) call it; tests and other users of Start need not.
func TuneRuntime() {
	if runtime.GOMAXPROCS(0) < MinProcs {
		runtime.GOMAXPROCS(MinProcs)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
