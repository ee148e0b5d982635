package dotenv

import (
	"bytes"
	"fmt"
	"strings"
)

// line is one logical line of a .env file: a blank line, a comment, or an assignment whose
// value may span several physical lines (quotes, backslash-newline).
type line struct {
	raw        string // exact bytes, with the terminating newline if there is one
	key        string // "" for blank lines and comments
	value      string // the value after quote removal
	valueStart int    // the value as written is raw[valueStart:valueEnd]
	valueEnd   int
}

// SyntaxError reports text that is not a blank line, a comment or KEY=value. It names the
// line where the problem starts, never the line's content: that may hold a secret.
type SyntaxError struct {
	Name    string // the name given to Parse, or the path given to Load
	Line    int    // 1-based
	Problem string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s line %d: %s", e.Name, e.Line, e.Problem)
}

// shellMetachars end a command in bash; unquoted in a value they would run something.
const shellMetachars = ";&|<>()"

type parser struct {
	name string
	data []byte
	pos  int
}

func parseLines(name string, data []byte) ([]line, error) {
	p := &parser{name: name, data: data}
	if nul := bytes.IndexByte(data, 0); nul >= 0 {
		return nil, p.errorAt(nul, "NUL byte")
	}
	var lines []line
	for p.pos < len(data) {
		start := p.pos
		parsed, err := p.line()
		if err != nil {
			return nil, err
		}
		parsed.raw = string(data[start:p.pos])
		if parsed.key != "" {
			parsed.valueStart -= start
			parsed.valueEnd -= start
		}
		lines = append(lines, parsed)
	}
	return lines, nil
}

func (p *parser) errorAt(pos int, problem string) error {
	lineNo := 1 + bytes.Count(p.data[:pos], []byte("\n"))
	return &SyntaxError{Name: p.name, Line: lineNo, Problem: problem}
}

// line parses one logical line and leaves pos after its newline.
func (p *parser) line() (line, error) {
	p.skipBlanks()
	if p.atLineEnd() || p.data[p.pos] == '#' {
		p.skipPastNewline()
		return line{}, nil
	}
	start := p.pos
	p.skipExport()
	key := p.scanName()
	if key == "" || p.pos == len(p.data) || p.data[p.pos] != '=' {
		return line{}, p.errorAt(start, "expected KEY=value")
	}
	p.pos++
	parsed := line{key: key, valueStart: p.pos}
	value, err := p.word()
	if err != nil {
		return line{}, err
	}
	parsed.value, parsed.valueEnd = value, p.pos

	p.skipBlanks()
	if !p.atLineEnd() && p.data[p.pos] != '#' {
		return line{}, p.errorAt(p.pos, "unexpected text after the value (quote values with spaces)")
	}
	p.skipPastNewline()
	return parsed, nil
}

func (p *parser) skipBlanks() {
	for p.pos < len(p.data) && isBlank(p.data[p.pos]) {
		p.pos++
	}
}

func (p *parser) atLineEnd() bool { return p.pos == len(p.data) || p.data[p.pos] == '\n' }

func (p *parser) skipPastNewline() {
	if end := bytes.IndexByte(p.data[p.pos:], '\n'); end >= 0 {
		p.pos += end + 1
	} else {
		p.pos = len(p.data)
	}
}

func (p *parser) skipExport() {
	rest := p.data[p.pos:]
	if bytes.HasPrefix(rest, []byte("export")) && len(rest) > 6 && isBlank(rest[6]) {
		p.pos += 6
		p.skipBlanks()
	}
}

// scanName scans a shell variable name.
func (p *parser) scanName() string {
	start := p.pos
	for p.pos < len(p.data) && isNameByte(p.data[p.pos], p.pos == start) {
		p.pos++
	}
	return string(p.data[start:p.pos])
}

// word scans a value the way bash reads the word after "=": unquoted text, '...' and
// "..." segments joined together, ending at an unquoted blank or newline. It performs no
// $VAR, `command` or ~ expansion: such text is kept as written.
func (p *parser) word() (string, error) {
	var value strings.Builder
	for p.pos < len(p.data) {
		var err error
		switch c := p.data[p.pos]; {
		case isBlank(c) || c == '\n':
			return value.String(), nil
		case c == '\'':
			err = p.singleQuoted(&value)
		case c == '"':
			err = p.doubleQuoted(&value)
		case c == '\\':
			err = p.escaped(&value)
		case strings.IndexByte(shellMetachars, c) >= 0:
			err = p.errorAt(p.pos, "unquoted shell metacharacter in value (quote the value)")
		default:
			value.WriteByte(c)
			p.pos++
		}
		if err != nil {
			return "", err
		}
	}
	return value.String(), nil
}

// singleQuoted reads '...', where nothing is special but the closing quote.
func (p *parser) singleQuoted(value *strings.Builder) error {
	end := bytes.IndexByte(p.data[p.pos+1:], '\'')
	if end < 0 {
		return p.errorAt(p.pos, "unterminated quote")
	}
	value.Write(p.data[p.pos+1 : p.pos+1+end])
	p.pos += end + 2
	return nil
}

// doubleQuoted reads "...", where a backslash escapes only $ ` " \ and newline, as in bash.
func (p *parser) doubleQuoted(value *strings.Builder) error {
	start := p.pos
	for p.pos++; p.pos < len(p.data); p.pos++ {
		c := p.data[p.pos]
		if c == '"' {
			p.pos++
			return nil
		}
		if c == '\\' && p.pos+1 < len(p.data) && strings.IndexByte("$`\"\\\n", p.data[p.pos+1]) >= 0 {
			p.pos++
			if c = p.data[p.pos]; c == '\n' {
				continue // backslash-newline joins lines
			}
		}
		value.WriteByte(c)
	}
	return p.errorAt(start, "unterminated quote")
}

// escaped reads an unquoted backslash: it keeps the next byte, or joins the next line.
func (p *parser) escaped(value *strings.Builder) error {
	start := p.pos
	if p.pos+1 == len(p.data) {
		return p.errorAt(start, "backslash at end of file")
	}
	next := p.data[p.pos+1]
	p.pos += 2
	if next != '\n' {
		value.WriteByte(next)
		return nil
	}
	if p.pos == len(p.data) {
		// A line appended later would be joined to this one.
		return p.errorAt(start, "line continuation at end of file")
	}
	return nil
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isNameByte(c byte, first bool) bool {
	letter := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	return letter || !first && '0' <= c && c <= '9'
}

// validName reports whether key is a shell variable name: [A-Za-z_][A-Za-z0-9_]*.
func validName(key string) bool {
	for i := 0; i < len(key); i++ {
		if !isNameByte(key[i], i == 0) {
			return false
		}
	}
	return key != ""
}
