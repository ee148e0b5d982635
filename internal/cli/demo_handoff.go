package cli

import (
	"context"
	"fmt"
	"os/exec"
)

// demoHandoffApp is the service the handoff step fetches, and demoHandoffPath its path.
const (
	demoHandoffApp  = "jaeger.example.com"
	demoHandoffPath = "/api/services"
)

// demoExecScript shows what a program started by cfst exec finds in its environment:
// the client id, and only whether the secret is set.
const demoExecScript = `echo "client id: $CF_SERVICE_TOKEN_CLIENT_ID; ` +
	`secret: ${CF_SERVICE_TOKEN_CLIENT_SECRET:+set (not shown)}"`

// showHandoff is the demo's tour of the ways to hand the token to other tools: cfst
// curl for one request, cfst proxy for tools that cannot add headers, and cfst exec for
// a program that reads the token from its environment. None puts the secret in a
// process argument.
func (t *demoTour) showHandoff(ctx context.Context) error {
	t.heading("Hand the token to other tools", "The secret never goes into a command "+
		"line. 'cfst curl' sends one request with it; 'cfst proxy'\nadds it for tools "+
		"that cannot (a browser, a Prometheus scrape); 'cfst exec' puts it in a\n"+
		"program's environment. The emulated services answer with what reached them: "+
		"Access\nchecks the secret and passes a signed JWT on, not the secret.")
	t.run(ctx, "curl", "https://"+demoHandoffApp+demoHandoffPath)
	if err := t.showProxy(ctx); err != nil {
		return err
	}
	if _, err := exec.LookPath("sh"); err == nil {
		t.run(ctx, "exec", "--", "sh", "-c", demoExecScript)
	}
	return nil
}

// showProxy starts cfst proxy in the background, fetches through it with a client that
// has no token, and stops it.
func (t *demoTour) showProxy(ctx context.Context) error {
	upstream := "https://" + demoHandoffApp
	fmt.Fprintf(t.out, "\n$ cfst proxy --listen 127.0.0.1:0 --to %s &\n", upstream)
	log := &demoLog{}
	proxyCtx, stop := context.WithCancel(ctx)
	defer stop()
	running, err := t.backgroundApp(log).startProxy(proxyCtx, &proxyOptions{
		Listen: "127.0.0.1:0", To: []string{upstream}, ReloadEvery: defaultReloadEvery})
	if err != nil {
		return fmt.Errorf("demo: start the proxy: %w", err)
	}
	log.flushTo(t.out)

	url := "http://" + running.addr.String() + demoHandoffPath
	fmt.Fprintf(t.out, "\n$ curl %s    # a tool without the token\n", url)
	status, body, fetchErr := demoGet(ctx, url)
	if fetchErr == nil {
		fmt.Fprintf(t.out, "HTTP %s\n%s\n", status, excerpt(string(body), 96))
	}
	stop()
	err = running.wait(proxyCtx)
	log.flushTo(t.out)
	if fetchErr != nil {
		return fetchErr
	}
	return err
}
