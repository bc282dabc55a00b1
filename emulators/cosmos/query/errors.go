package query

import "fmt"

// ParseError reports a query the package cannot parse or does not support.
type ParseError struct {
	Offset int    // byte offset into the query text
	Msg    string // what is wrong, e.g. `unsupported function "LOWER"`
	// Clause is "DISTINCT" or "GROUP BY" when the query uses that clause,
	// which the package does not run and which, across partitions, only
	// a client-side query engine could.
	Clause string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset)
}

func clauseError(offset int, clause string) error {
	return &ParseError{Offset: offset, Msg: clause + " is not supported", Clause: clause}
}

func errorAt(offset int, format string, args ...any) error {
	return &ParseError{Offset: offset, Msg: fmt.Sprintf(format, args...)}
}
