package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// serveUntilDone waits until ctx ends or server stops by itself, whose Serve error arrives
// on served. When ctx ends it calls stopping, then shuts server down, letting requests in
// flight finish for up to grace. Errors name the server as what.
func serveUntilDone(ctx context.Context, server *http.Server, served <-chan error,
	what string, grace time.Duration, stopping func()) error {
	select {
	case err := <-served:
		return fmt.Errorf("%s stopped: %w", what, err)
	case <-ctx.Done():
	}
	stopping()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("stop the %s: %w", what, err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s stopped: %w", what, err)
	}
	return nil
}
