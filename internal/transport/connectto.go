package transport

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ConnectToEnv names the environment variable that holds ConnectTo rules: a list of
// HOST1:PORT1:HOST2:PORT2 entries separated by commas, spaces or both, e.g.
//
//	CFST_CONNECT_TO="app.example.com:443:127.0.0.1:8443, ::[::1]:9443"
//
// Rules from --connect-to flags should come first, so a flag overrides the environment.
const ConnectToEnv = "CFST_CONNECT_TO"

// ConnectTo is one rule in curl's --connect-to syntax, HOST1:PORT1:HOST2:PORT2: a
// connection to HOST1:PORT1 goes to HOST2:PORT2 instead. Only where the TCP connection
// goes changes: the Host header, SNI and certificate check still use the URL's hostname.
// Hosts are stored lowercase and IPv6 addresses without their brackets.
type ConnectTo struct {
	FromHost string // "" matches every host
	FromPort int    // 0 matches every port
	ToHost   string // "" keeps the request's host
	ToPort   int    // 0 keeps the request's port
}

// ParseConnectTo parses one HOST1:PORT1:HOST2:PORT2 entry. Either host may be empty, and
// so may either port; an IPv6 address goes in brackets, as in "[::1]".
func ParseConnectTo(entry string) (ConnectTo, error) {
	fields, ok := splitConnectTo(entry)
	if !ok {
		return ConnectTo{}, fmt.Errorf("connect-to %q: want HOST1:PORT1:HOST2:PORT2", entry)
	}
	var rule ConnectTo
	hosts := [2]*string{&rule.FromHost, &rule.ToHost}
	ports := [2]*int{&rule.FromPort, &rule.ToPort}
	for side := range 2 {
		var err error
		if *hosts[side], err = parseRuleHost(fields[2*side]); err != nil {
			return ConnectTo{}, fmt.Errorf("connect-to %q: %w", entry, err)
		}
		if *ports[side], err = parseRulePort(fields[2*side+1]); err != nil {
			return ConnectTo{}, fmt.Errorf("connect-to %q: %w", entry, err)
		}
	}
	return rule, nil
}

// ParseConnectToList parses entries separated by commas and/or white space, the format of
// ConnectToEnv. An empty list gives no rules.
func ParseConnectToList(list string) ([]ConnectTo, error) {
	entries := strings.FieldsFunc(list, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	rules := make([]ConnectTo, 0, len(entries))
	for _, entry := range entries {
		rule, err := ParseConnectTo(entry)
		if err != nil {
			return nil, err
		}
		rules = append(rules, rule)
	}
	return rules, nil
}

// ConnectToFromEnv parses the rules in ConnectToEnv, read through getenv (os.Getenv).
func ConnectToFromEnv(getenv func(string) string) ([]ConnectTo, error) {
	rules, err := ParseConnectToList(getenv(ConnectToEnv))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ConnectToEnv, err)
	}
	return rules, nil
}

// String returns the rule in the syntax ParseConnectTo reads, which curl reads too.
func (c ConnectTo) String() string {
	return formatRuleHost(c.FromHost) + ":" + formatRulePort(c.FromPort) + ":" +
		formatRuleHost(c.ToHost) + ":" + formatRulePort(c.ToPort)
}

// Route returns the address to dial for addr ("host:port") under rules: the first
// matching rule's destination, or addr itself when no rule matches.
func Route(rules []ConnectTo, addr string) string {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return addr
	}
	for _, rule := range rules {
		if rule.matches(host, port) {
			return rule.destination(host, portText)
		}
	}
	return addr
}

func (c ConnectTo) matches(host string, port int) bool {
	if c.FromPort != 0 && c.FromPort != port {
		return false
	}
	return c.FromHost == "" || sameHost(c.FromHost, host)
}

func (c ConnectTo) destination(host, port string) string {
	if c.ToHost != "" {
		host = c.ToHost
	}
	if c.ToPort != 0 {
		port = strconv.Itoa(c.ToPort)
	}
	return net.JoinHostPort(host, port)
}

// sameHost compares hostnames without case and without a trailing dot.
func sameHost(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

// splitConnectTo cuts entry into its four fields, treating a colon inside brackets as part
// of an IPv6 address.
func splitConnectTo(entry string) ([]string, bool) {
	fields := make([]string, 0, 4)
	rest := entry
	for len(fields) < 3 {
		end := strings.IndexByte(rest, ':')
		if strings.HasPrefix(rest, "[") {
			closing := strings.IndexByte(rest, ']')
			if closing < 0 || !strings.HasPrefix(rest[closing+1:], ":") {
				return nil, false
			}
			end = closing + 1
		}
		if end < 0 {
			return nil, false
		}
		fields = append(fields, rest[:end])
		rest = rest[end+1:]
	}
	return append(fields, rest), true
}

func parseRuleHost(field string) (string, error) {
	if inner, ok := strings.CutPrefix(field, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		addr, err := netip.ParseAddr(inner)
		if !ok || err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", fmt.Errorf("%q is not a bracketed IPv6 address", field)
		}
		return addr.String(), nil
	}
	for _, r := range field {
		if !isHostRune(r) {
			return "", fmt.Errorf("host %q has a character hostnames cannot hold", field)
		}
	}
	return strings.ToLower(field), nil
}

func isHostRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '.' || r == '-' || r == '_'
}

func parseRulePort(field string) (int, error) {
	if field == "" {
		return 0, nil
	}
	port, err := strconv.Atoi(field)
	if err != nil || field[0] < '0' || field[0] > '9' || len(field) > 5 ||
		port < 1 || port > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", field)
	}
	return port, nil
}

func formatRuleHost(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

func formatRulePort(port int) string {
	if port == 0 {
		return ""
	}
	return strconv.Itoa(port)
}

// ConnectToList collects rules from a repeatable --connect-to flag. It satisfies
// pflag.Value and flag.Value; each value may itself be a ConnectToEnv-style list.
type ConnectToList []ConnectTo

// Set parses value and appends its rules.
func (l *ConnectToList) Set(value string) error {
	rules, err := ParseConnectToList(value)
	if err != nil {
		return err
	}
	*l = append(*l, rules...)
	return nil
}

// String returns the rules separated by commas.
func (l *ConnectToList) String() string {
	if l == nil {
		return ""
	}
	entries := make([]string, len(*l))
	for i, rule := range *l {
		entries[i] = rule.String()
	}
	return strings.Join(entries, ",")
}

// Type names the value's syntax for pflag's help output.
func (l *ConnectToList) Type() string { return "HOST1:PORT1:HOST2:PORT2" }
