package cli

import (
	"errors"
	"fmt"
)

// exitError is an error with the exit code it maps to and an optional hint that tells the
// user what to do next. Commands return it; Main prints it and exits with its code.
type exitError struct {
	code int
	err  error
	hint string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err with an exit code and a hint. The hint may be empty.
func withCode(code int, err error, hint string) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err, hint: hint}
}

// usageError reports bad flags or arguments.
func usageError(hint, format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...), hint: hint}
}

// exitCodeOf returns the exit code an error maps to.
func exitCodeOf(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitError
}

// hintOf returns the hint attached to err, if any.
func hintOf(err error) string {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.hint
	}
	return ""
}

var errNotImplemented = errors.New("not implemented yet")
