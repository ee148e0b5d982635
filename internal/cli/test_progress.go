package cli

import (
	"fmt"
	"time"

	"github.com/cfst/cfst/internal/probe"
)

// progressInterval is how often the progress line refreshes while no result arrives.
const progressInterval = 200 * time.Millisecond

// resultCollector gathers a run's results as they arrive. When streamLines is set it
// prints each result's line as soon as every earlier target has one, so piped output
// streams yet keeps the order of the targets. On a terminal it keeps a progress line on
// stderr.
type resultCollector struct {
	app         *App
	results     []probe.Result
	arrived     []bool
	printed     int // results[:printed] are on stdout
	done        int
	failed      int
	streamLines bool
	anonymous   bool
	progress    bool
	started     time.Time
}

// collectResults reads n results from stream and returns them in target order.
func (app *App) collectResults(stream <-chan probe.Result, n int, streamLines,
	anonymous bool) []probe.Result {
	c := &resultCollector{
		app: app, results: make([]probe.Result, n), arrived: make([]bool, n),
		streamLines: streamLines, anonymous: anonymous, started: time.Now(),
		progress: app.Streams.ErrTTY && !app.debugEnabled(),
	}
	ticker := time.NewTicker(progressInterval)
	defer ticker.Stop()
	for {
		c.showProgress()
		select {
		case result, ok := <-stream:
			if !ok {
				c.clearProgress()
				return c.results
			}
			c.add(result)
		case <-ticker.C:
		}
	}
}

func (c *resultCollector) add(result probe.Result) {
	c.results[result.Index], c.arrived[result.Index] = result, true
	c.done++
	if result.Class != probe.ClassOK {
		c.failed++
	}
	if !c.streamLines {
		return
	}
	for c.printed < len(c.results) && c.arrived[c.printed] {
		c.clearProgress()
		writeTestLine(c.app.Streams.Out, c.results[c.printed], c.anonymous,
			c.app.debugEnabled())
		c.printed++
	}
}

// showProgress rewrites the progress line: "testing 37/100: 30 ok, 7 failed, 1.2s".
func (c *resultCollector) showProgress() {
	if !c.progress {
		return
	}
	elapsed := time.Since(c.started).Round(100 * time.Millisecond)
	c.app.writeErr(fmt.Sprintf("\r\033[Ktesting %d/%d: %d ok, %d failed, %s", c.done,
		len(c.results), c.done-c.failed, c.failed, elapsed))
}

func (c *resultCollector) clearProgress() {
	if c.progress {
		c.app.writeErr("\r\033[K")
	}
}
