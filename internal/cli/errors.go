package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
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

// errQuiet is the error of a command that has said all it had to say, or was asked to say
// nothing (curl -s, exec passing on its child's exit code): Run prints nothing for it.
var errQuiet = errors.New("")

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

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath()),
			"%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// exactArgs accepts exactly n positional arguments, named name in the error (such as
// "NAME" or "TOKEN"), and rejects any other count with a usage error.
func exactArgs(n int, name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		hint := fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath())
		if len(args) < n {
			return usageError(hint, "%s needs %s", cmd.CommandPath(), name)
		}
		return usageError(hint, "%s takes one %s, got %d arguments", cmd.CommandPath(), name,
			len(args))
	}
}
