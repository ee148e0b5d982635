package cli

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cfst/cfst/internal/probe"
)

// Marks that start each target's line.
const (
	markOK   = "✓"
	markFail = "✗"
)

// printTestReport writes the results in the --output format. Piped text lines were
// already streamed by collectResults.
func (app *App) printTestReport(results []probe.Result, opts *testOptions,
	elapsed time.Duration) error {
	out := app.Streams.Out
	switch opts.Output {
	case formatJSON:
		return writeTestJSON(out, results)
	case formatJUnit:
		return writeTestJUnit(out, results, app.Now().Add(-elapsed), elapsed)
	case formatMarkdown:
		return writeTestMarkdown(out, results)
	}
	if app.Streams.OutTTY {
		if err := app.writeTestTable(results, opts.CompareAnonymous); err != nil {
			return err
		}
	}
	app.notef("%s", testSummary(results, elapsed))
	return nil
}

// writeTestLine writes one target's line for piped output, fields separated by two
// spaces: "✓ jaeger.example.com  ok  200  41ms", or for a failure
// "✗ NAME  CLASS  STATUS  LATENCY  DETAIL  hint: HINT".
func writeTestLine(w io.Writer, result probe.Result, anonymous, verbose bool) {
	fields := []string{markOf(result) + " " + result.Target.Name, string(result.Class),
		statusText(result.Status), latencyText(result.Latency)}
	if result.Class != probe.ClassOK {
		fields = append(fields, result.Detail)
	}
	if anonymous && result.Anonymous != nil {
		fields = append(fields, "without token: "+anonymousText(result.Anonymous))
	}
	if verbose && result.Ray != "" {
		fields = append(fields, "ray "+result.Ray)
	}
	if result.Hint != "" {
		fields = append(fields, "hint: "+result.Hint)
	}
	fmt.Fprintln(w, oneLine(strings.Join(fields, "  ")))
}

// writeTestTable writes the results as a table, then each failure's detail and hint.
func (app *App) writeTestTable(results []probe.Result, anonymous bool) error {
	header := []string{"", "TARGET", "CLASS", "STATUS", "LATENCY", "RAY"}
	if anonymous {
		header = append(header, "WITHOUT TOKEN")
	}
	tbl := newTable(app.Streams, header...)
	for _, result := range results {
		row := []string{markOf(result), result.Target.Name, string(result.Class),
			statusText(result.Status), latencyText(result.Latency), orDash(result.Ray)}
		if anonymous {
			row = append(row, orDash(anonymousText(result.Anonymous)))
		}
		tbl.add(row...)
	}
	if err := tbl.print(); err != nil {
		return err
	}
	for _, result := range results {
		if result.Class == probe.ClassOK {
			continue
		}
		fmt.Fprintf(app.Streams.Out, "\n%s %s: %s\n  hint: %s\n", markFail,
			result.Target.Name, oneLine(result.Detail), oneLine(result.Hint))
	}
	return nil
}

// testSummary is the closing line on stderr: "7 targets in 412ms: 2 ok, 1 backend_down".
func testSummary(results []probe.Result, elapsed time.Duration) string {
	summary := probe.Summarize(results)
	var counts []string
	for _, class := range probe.Classes {
		if n := summary.ByClass[class]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, class))
		}
	}
	return fmt.Sprintf("%d %s in %s: %s", summary.Total, plural(summary.Total, "target",
		"targets"), latencyText(elapsed), strings.Join(counts, ", "))
}

func markOf(result probe.Result) string {
	if result.Class == probe.ClassOK {
		return markOK
	}
	return markFail
}

// statusText is the HTTP status, or "-" when there was no HTTP answer.
func statusText(status int) string {
	if status == 0 {
		return "-"
	}
	return strconv.Itoa(status)
}

// latencyText is "41ms" below a second and "1.2s" above.
func latencyText(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}

// anonymousText describes the answer without credentials: "302 login_redirect".
func anonymousText(anonymous *probe.Result) string {
	if anonymous == nil {
		return ""
	}
	return statusText(anonymous.Status) + " " + string(anonymous.Class)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine replaces line breaks and tabs, which would break line-oriented output.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ", "\t", " ").Replace(s)
}

// testResultJSON is one element of `cfst test --output json`. Its keys are a stable
// interface: exactly these six.
type testResultJSON struct {
	Target string `json:"target"`
	Class  string `json:"class"`
	// Status is 0 when there was no HTTP answer (network_error).
	Status    int    `json:"status"`
	LatencyMS int64  `json:"latency_ms"`
	Ray       string `json:"ray"`
	Hint      string `json:"hint"`
}

func writeTestJSON(w io.Writer, results []probe.Result) error {
	items := make([]testResultJSON, 0, len(results))
	for _, result := range results {
		items = append(items, testResultJSON{
			Target: result.Target.Name, Class: string(result.Class), Status: result.Status,
			LatencyMS: result.Latency.Milliseconds(), Ray: result.Ray, Hint: result.Hint,
		})
	}
	return writeJSON(w, items)
}

// The JUnit XML report: one test suite, one test case per target. Failing classes are
// <failure>s, network errors <error>s.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func writeTestJUnit(w io.Writer, results []probe.Result, started time.Time,
	elapsed time.Duration) error {
	suite := junitSuite{Name: "cfst test", Tests: len(results), Time: seconds(elapsed),
		Timestamp: started.UTC().Format("2006-01-02T15:04:05")}
	for _, result := range results {
		tc := junitCase{Name: result.Target.Name, ClassName: "cfst.test",
			Time: seconds(result.Latency), SystemOut: junitOutput(result)}
		problem := &junitProblem{Type: string(result.Class),
			Message: string(result.Class) + ": " + oneLine(result.Detail), Text: result.Hint}
		switch result.Class {
		case probe.ClassOK:
		case probe.ClassNetworkError:
			tc.Error = problem
			suite.Errors++
		default:
			tc.Failure = problem
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	report := junitSuites{Name: suite.Name, Tests: suite.Tests, Failures: suite.Failures,
		Errors: suite.Errors, Time: suite.Time, Suites: []junitSuite{suite}}
	data, err := xml.MarshalIndent(report, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JUnit XML: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s%s\n", xml.Header, data)
	return err
}

// junitOutput is the system-out of a case: "url=... status=200 ray=...".
func junitOutput(result probe.Result) string {
	return fmt.Sprintf("url=%s class=%s status=%d ray=%s", result.Target.URL, result.Class,
		result.Status, orDash(result.Ray))
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// writeTestMarkdown writes a table to paste into a pull request, a chat or an agent's
// context, then the summary as a sentence.
func writeTestMarkdown(w io.Writer, results []probe.Result) error {
	var text strings.Builder
	text.WriteString("| | Target | Class | Status | Latency | Hint |\n")
	text.WriteString("|---|---|---|---|---|---|\n")
	for _, result := range results {
		cells := []string{markOf(result), result.Target.Name, "`" + string(result.Class) + "`",
			statusText(result.Status), latencyText(result.Latency), result.Hint}
		for i, cell := range cells {
			cells[i] = markdownCell(cell)
		}
		text.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	summary := probe.Summarize(results)
	fmt.Fprintf(&text, "\n%d of %d targets ok.\n", summary.OK, summary.Total)
	_, err := io.WriteString(w, text.String())
	return err
}

// markdownCell escapes what would end a table cell or row.
func markdownCell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}
