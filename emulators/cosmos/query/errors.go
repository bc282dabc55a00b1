package query

import "fmt"

// ParseError reports a query the package cannot parse or does not support.
type ParseError struct {
	Offset int    // byte offset into the query text
	Msg    string // what is wrong, e.g. `unsupported function "LOWER"`
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset)
}

func errorAt(offset int, format string, args ...any) error {
	return &ParseError{Offset: offset, Msg: fmt.Sprintf(format, args...)}
}
