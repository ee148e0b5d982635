package cli

import (
	"net/http"
	"slices"

	"github.com/cfst/cfst/internal/cloudflare"
	"github.com/cfst/cfst/internal/monitor"
	"github.com/cfst/cfst/internal/probe"
)

// monitorSetup reads what a monitor reloads: the configuration (or the targets of the
// command line), the service token of --prefix and the API client, which sends through
// apiHTTP. Its errors carry exit codes and hints.
func (app *App) monitorSetup(opts *monitorOptions, apiHTTP *http.Client) (monitor.Setup,
	error) {
	cfg, err := app.monitorConfig(opts)
	if err != nil {
		return monitor.Setup{}, err
	}
	clientID, clientSecret, _, err := app.credentials()
	if err != nil {
		return monitor.Setup{}, err
	}
	setup := monitor.Setup{Config: cfg,
		Credentials: probe.Credentials{ClientID: clientID, Secret: clientSecret}}
	api, err := app.monitorAPI(apiHTTP)
	if err != nil {
		return monitor.Setup{}, err
	}
	if api != nil {
		setup.API = api
	}
	return setup, nil
}

// monitorConfig reads --config, or builds a configuration of defaults around the
// targets of the command line. --interval overrides the interval of either.
func (app *App) monitorConfig(opts *monitorOptions) (*monitor.Config, error) {
	var cfg *monitor.Config
	var err error
	if opts.Config != "" {
		cfg, err = monitor.LoadConfig(opts.Config, app.monitorLookup)
		if err != nil {
			return nil, usageError("fix the configuration; the README's monitor section "+
				"lists every key", "%s", app.secrets.Scrub(err.Error()))
		}
	} else {
		if cfg, err = monitor.ParseConfig("command line", nil, app.monitorLookup); err != nil {
			return nil, err
		}
		if cfg.Services, err = app.monitorTargets(opts); err != nil {
			return nil, err
		}
		if opts.Services != "-" {
			cfg.ServicesFile = opts.Services
		}
	}
	if opts.Interval > 0 {
		cfg.Interval = opts.Interval
	}
	return cfg, nil
}

// monitorTargets reads the targets of the command line: arguments and --services. Stdin
// (--services -) is read once, by the setup at the start, and kept for every reload,
// which would find stdin at its end.
func (app *App) monitorTargets(opts *monitorOptions) ([]probe.Target, error) {
	if opts.Services == "-" && opts.stdinTargets != nil {
		return slices.Clone(opts.stdinTargets), nil
	}
	targets, err := app.testTargets(&testOptions{Args: opts.Args, Services: opts.Services})
	if err != nil {
		return nil, err
	}
	if opts.Services == "-" {
		opts.stdinTargets = targets
	}
	return targets, nil
}

// monitorLookup reads a variable a configuration names (url_env): the environment, then
// .env. A .env file that does not parse reads as unset; the credentials report it.
func (app *App) monitorLookup(key string) string {
	value, _, err := app.setting(key)
	if err != nil {
		return ""
	}
	return value
}

// monitorAPI returns the API client the token checks use, or nil when no API token is
// set: then the monitor watches the services only. Unlike app.apiClient, it sends through
// httpClient, which the monitor keeps across reloads and closes when it stops.
func (app *App) monitorAPI(httpClient *http.Client) (*cloudflare.Client, error) {
	settings, err := app.resolveAPISettings()
	if err != nil || settings.Token.IsZero() {
		return nil, err
	}
	if settings.AccountID == "" && settings.ZoneID == "" {
		return nil, usageError("set "+cloudflare.EnvAccountID+" or pass --account ID, or "+
			"unset "+cloudflare.EnvAPIToken+" to watch the services only",
			"no Cloudflare account")
	}
	client, err := cloudflare.New(cloudflare.Config{APIToken: settings.Token,
		AccountID: settings.AccountID, ZoneID: settings.ZoneID, BaseURL: settings.BaseURL,
		HTTPClient: httpClient, Timeout: app.Timeout})
	if err != nil {
		return nil, apiError(err)
	}
	return client, nil
}

// monitorFiles are the files whose changes reload the monitor.
func (app *App) monitorFiles(opts *monitorOptions, cfg *monitor.Config) []string {
	files := []string{app.envFilePath()}
	if opts.Config != "" {
		files = append(files, opts.Config)
	}
	if cfg != nil && cfg.ServicesFile != "" {
		files = append(files, cfg.ServicesFile)
	}
	return files
}
