package emulator

import (
	"sync"
	"time"
)

// Clock tells the emulator the time, so tests and demos can move it.
type Clock interface {
	Now() time.Time
}

// ManualClock is a Clock that starts at a given time, runs along with the real clock, and
// can be moved forward. It is safe for concurrent use.
type ManualClock struct {
	mu     sync.Mutex
	offset time.Duration
}

// NewManualClock returns a clock that reads start now and then follows real time.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{offset: time.Until(start)}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC()
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
