package cli

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Calendar units as cfst counts them. The API knows only hours, so a month is a twelfth of
// the API's default year (730h) and a year is that default (8760h): 6mo is 4380h, 1y is
// 8760h, whatever the calendar says.
const (
	day   = 24 * time.Hour
	week  = 7 * day
	month = 730 * time.Hour
	year  = 8760 * time.Hour
)

// durationUnits are the units parseDuration accepts.
var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond,
	"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
	"d": day, "w": week, "mo": month, "y": year,
}

// durationHint is the hint for every duration error.
const durationHint = "write a duration such as 90m, 12h, 1d, 2w, 30d, 6mo, 1y or 1y6mo"

// parseDuration reads a duration in the API's form (Go syntax: 8760h, 90m, 2h45m) or in the
// units people use: d (day), w (week), mo (730h), y (8760h), combinations such as 1y6mo or
// 1d12h included. "0" is zero. Negative values are refused.
func parseDuration(text string) (time.Duration, error) {
	text = strings.TrimSpace(text)
	if text == "0" {
		return 0, nil
	}
	if text == "" {
		return 0, errors.New("empty duration")
	}
	var total time.Duration
	for rest := text; rest != ""; {
		amount, unit, remaining, err := nextDurationPart(rest)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: %w", text, err)
		}
		part := float64(unit) * amount
		if part > float64(math.MaxInt64-total) {
			return 0, fmt.Errorf("invalid duration %q: too long", text)
		}
		total += time.Duration(part)
		rest = remaining
	}
	return total, nil
}

// nextDurationPart splits "12h30m" into 12, time.Hour and "30m".
func nextDurationPart(text string) (amount float64, unit time.Duration, rest string, err error) {
	end := strings.IndexFunc(text, isDurationUnitRune)
	if end == 0 {
		return 0, 0, "", fmt.Errorf("expected a number at %q", text)
	}
	if end < 0 {
		return 0, 0, "", fmt.Errorf("missing unit after %q", text)
	}
	amount, err = strconv.ParseFloat(text[:end], 64)
	if err != nil {
		return 0, 0, "", fmt.Errorf("bad number %q", text[:end])
	}
	rest = strings.TrimLeftFunc(text[end:], isDurationUnitRune)
	unitName := text[end : len(text)-len(rest)]
	unit, ok := durationUnits[unitName]
	if !ok {
		return 0, 0, "", fmt.Errorf("unknown unit %q", unitName)
	}
	return amount, unit, rest, nil
}

func isDurationUnitRune(r rune) bool { return (r < '0' || r > '9') && r != '.' }

// tokenLifetime is how long a service token lives: a duration, or forever.
type tokenLifetime struct {
	Forever bool
	Length  time.Duration
}

// defaultLifetime is the API's default: one year.
var defaultLifetime = tokenLifetime{Length: year}

// parseLifetime reads a token lifetime: "forever", or a positive duration of at least one
// minute as parseDuration reads it.
func parseLifetime(text string) (tokenLifetime, error) {
	if strings.EqualFold(strings.TrimSpace(text), "forever") {
		return tokenLifetime{Forever: true}, nil
	}
	length, err := parseDuration(text)
	if err != nil {
		return tokenLifetime{}, err
	}
	if length < time.Minute {
		return tokenLifetime{}, fmt.Errorf("invalid duration %q: a token must live at least 1m",
			text)
	}
	return tokenLifetime{Length: length}, nil
}

// APIValue is the lifetime in the API's form: "forever", whole hours ("720h") when the
// length is a whole number of hours, else Go syntax ("1h30m0s").
func (l tokenLifetime) APIValue() string {
	if l.Forever {
		return "forever"
	}
	if l.Length%time.Hour == 0 {
		return strconv.FormatInt(int64(l.Length/time.Hour), 10) + "h"
	}
	return l.Length.String()
}

// durationFlagError turns a duration parse error into a usage error naming the flag.
func durationFlagError(flag string, err error) error {
	return usageError(durationHint, "--%s: %s", flag, err)
}
