//go:build !unix

package cli

import "os"

// forwardedSignals are the signals `cfst exec` passes on to its command.
var forwardedSignals = []os.Signal{os.Interrupt}

func isTerminalSignal(os.Signal) bool { return false }

func inTerminalForeground() bool { return false }
