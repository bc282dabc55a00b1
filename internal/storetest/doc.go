// Package storetest is the contract every store of the app keeps: one suite
// for the orders, one for the dead letters and one for the stock. The same
// suites run against the hand-written fakes of the handlers' tests and
// against cosmosstore (on the in-process Cosmos emulator, and on real Cosmos
// DB when COSMOS_CONTRACT_ENDPOINT is set), so the fakes can't drift from
// the adapter. Only tests import it.
//
// Every id and SKU a suite uses is unique to the run, so a factory may hand
// every subtest the same database.
package storetest

import (
	"crypto/rand"
	"encoding/hex"
)

// unique returns prefix with a random suffix.
func unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
