package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// Streams are the standard streams of one run, and whether each is a terminal. Commands
// write data to Out and everything meant for people (progress, warnings, hints) to Err.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	InTTY  bool
	OutTTY bool
	ErrTTY bool
	// Color is true when Err may carry ANSI colours: a terminal and NO_COLOR unset.
	Color bool
}

// SystemStreams returns the process's streams.
func SystemStreams() *Streams {
	return &Streams{
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    os.Stderr,
		InTTY:  isTerminal(os.Stdin),
		OutTTY: isTerminal(os.Stdout),
		ErrTTY: isTerminal(os.Stderr),
		Color:  isTerminal(os.Stderr) && os.Getenv("NO_COLOR") == "",
	}
}

// Interactive reports whether cfst may ask the user a question.
func (s *Streams) Interactive() bool { return s.InTTY && s.ErrTTY }

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
