package cli

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/cfst/cfst/internal/filewatch"
	"github.com/cfst/cfst/internal/monitor"
)

// monitorReloader reads the monitor's files again when they change or on SIGHUP, and
// hands the result to the monitor. A reload that fails leaves the monitor as it was.
type monitorReloader struct {
	app    *App
	opts   *monitorOptions
	mon    *monitor.Monitor
	watch  *filewatch.Watch
	files  []string       // the files watch watches
	hangup chan os.Signal // SIGHUP
	api    *http.Client   // the API client's transport, kept across reloads
}

// newMonitorReloader watches the files of setup and subscribes to SIGHUP at once, so
// that a SIGHUP sent once the monitor has announced itself reloads it rather than ending
// the process. On systems without SIGHUP, only changes reload.
func (app *App) newMonitorReloader(opts *monitorOptions, mon *monitor.Monitor,
	setup monitor.Setup, api *http.Client) *monitorReloader {
	files := app.monitorFiles(opts, setup.Config)
	r := &monitorReloader{app: app, opts: opts, mon: mon, files: files, api: api,
		watch: filewatch.New(files...), hangup: make(chan os.Signal, 1)}
	signal.Notify(r.hangup, syscall.SIGHUP)
	return r
}

// run checks the files every --reload-every and reloads on a change or a SIGHUP, until
// ctx ends.
func (r *monitorReloader) run(ctx context.Context) {
	defer signal.Stop(r.hangup)
	ticker := time.NewTicker(r.opts.ReloadEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.hangup:
			r.watch.Changed() // take in the files' state, so a change is not read twice
			r.reload("SIGHUP")
		case <-ticker.C:
			if r.watch.Changed() {
				r.reload("a file changed")
			}
		}
	}
}

// reload reads the setup and applies it, or reports why it cannot.
func (r *monitorReloader) reload(why string) {
	setup, err := r.app.monitorSetup(r.opts, r.api)
	if err != nil {
		r.mon.ReloadFailed(err)
		return
	}
	if files := r.app.monitorFiles(r.opts, setup.Config); !slices.Equal(files, r.files) {
		r.files = files // services_file changed: watch the new one
		r.watch.Reset(files...)
	}
	r.app.monitorLog("reloading: " + why)
	r.mon.Reload(setup)
}
