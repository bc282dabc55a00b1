package handlers

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ordersflow/orderpipeline/shared/inventory"
	"github.com/ordersflow/orderpipeline/shared/order"
	"github.com/ordersflow/orderpipeline/shared/payment"
)

// vocabulary lists every error the product code declares, by its qualified
// name, with the HTTP status and retry class it must map to. Adding an
// ErrX or an XError anywhere in handlers or shared/* without a row here
// fails TestEveryDeclaredErrorHasARow.
var vocabulary = []struct {
	name      string
	err       error
	status    int
	transient bool
}{
	{"order.ErrNotFound", order.ErrNotFound, http.StatusNotFound, false},
	{"order.ErrConflict", order.ErrConflict, http.StatusConflict, true},
	{"order.ErrUnavailable", order.ErrUnavailable, http.StatusServiceUnavailable, true},
	{"order.ErrInvalidTransition", order.ErrInvalidTransition, http.StatusConflict, false},
	{"order.ErrIdempotencyMismatch", order.ErrIdempotencyMismatch, http.StatusUnprocessableEntity, false},
	{"order.ErrInsufficientStock", order.ErrInsufficientStock, http.StatusConflict, false},
	{"order.ErrPermanent", order.ErrPermanent, http.StatusInternalServerError, false},
	{"order.ValidationError", &order.ValidationError{Field: "f", Detail: "bad"}, http.StatusBadRequest, false},
	{"payment.ErrUnavailable", payment.ErrUnavailable, http.StatusServiceUnavailable, true},
	{"inventory.ErrInsufficientStock", inventory.ErrInsufficientStock, http.StatusConflict, false},
	{"handlers.requestError", badRequest("f", "bad"), http.StatusBadRequest, false},
}

func TestEveryErrorMapsToStatusAndRetryClass(t *testing.T) {
	extra := []struct {
		name      string
		err       error
		status    int
		transient bool
	}{
		{"unprocessable validation", &order.ValidationError{Field: "sku", Unprocessable: true}, http.StatusUnprocessableEntity, false},
		{"deadline", context.DeadlineExceeded, http.StatusServiceUnavailable, true},
		{"cancelled", context.Canceled, http.StatusServiceUnavailable, true},
		{"unknown error", errors.New("something nobody classified"), http.StatusInternalServerError, false},
	}
	for _, tc := range append(vocabulary, extra...) {
		t.Run(tc.name, func(t *testing.T) {
			err := fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", tc.err))
			p := toProblem(err)
			assert.Equal(t, tc.status, p.Status, "status")
			assert.Equal(t, tc.transient, isTransient(err), "retry class")
			if tc.status >= http.StatusInternalServerError {
				assert.Empty(t, p.Detail, "a 5xx carries no error text")
			} else {
				assert.NotEmpty(t, p.Detail)
			}
		})
	}
	assert.False(t, isTransient(nil))
}

// TestEveryDeclaredErrorHasARow parses the product packages for declared
// sentinels (var ErrX) and error types (type XError), and requires a row in
// vocabulary for each, so a new error can't silently become a 500.
func TestEveryDeclaredErrorHasARow(t *testing.T) {
	dirs, err := filepath.Glob("../shared/*")
	require.NoError(t, err)
	declared := map[string]bool{}
	for _, dir := range append(dirs, ".") {
		for _, name := range declaredErrors(t, dir) {
			declared[name] = true
		}
	}
	require.Contains(t, declared, "order.ErrNotFound", "the scan finds the vocabulary")
	listed := map[string]bool{}
	for _, v := range vocabulary {
		listed[v.name] = true
	}
	for name := range declared {
		assert.True(t, listed[name], "%s has no row in vocabulary (and maybe none in errorTable)", name)
	}
}

// declaredErrors returns pkg.ErrX for each package-level var named Err* and
// pkg.XError for each type named *Error in the non-test files of dir.
func declaredErrors(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var out []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			out = append(out, errorNames(f.Name.Name, decl)...)
		}
	}
	return out
}

func errorNames(pkg string, decl ast.Decl) []string {
	gd, ok := decl.(*ast.GenDecl)
	if !ok {
		return nil
	}
	var out []string
	for _, spec := range gd.Specs {
		switch s := spec.(type) {
		case *ast.ValueSpec:
			for _, n := range s.Names {
				if gd.Tok == token.VAR && strings.HasPrefix(n.Name, "Err") {
					out = append(out, pkg+"."+n.Name)
				}
			}
		case *ast.TypeSpec:
			if strings.HasSuffix(s.Name.Name, "Error") {
				out = append(out, pkg+"."+s.Name.Name)
			}
		}
	}
	return out
}
