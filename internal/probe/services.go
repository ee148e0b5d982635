package probe

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// LoadServices reads a services file (--services FILE); see ParseServices.
func LoadServices(path string) ([]Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read services file: %w", err)
	}
	return ParseServices(path, data)
}

// ParseServices parses a services file named name. Errors start with "name:line:".
//
// A file ending in .yaml or .yml, or whose first line starts with "-" or "services:", is
// YAML: a list, or a map with one key "services" holding the list. Each item is a URL or
// hostname string, or a map with these keys:
//
//	url: https://app.example.com/health  # or host: app.example.com (https is implied)
//	path: /health                         # with host only
//	method: HEAD                          # default GET
//	expect: 204                           # status that counts as ok; default any 2xx
//	timeout: 5s                           # Go duration; default the prober's
//	name: app health                      # label in output; default the URL or host
//
// Any other file is plain text: one URL or hostname per line; "#" starts a comment.
func ParseServices(name string, data []byte) ([]Target, error) {
	var targets []Target
	var err error
	if isYAMLServices(name, data) {
		targets, err = parseYAMLServices(name, data)
	} else {
		targets, err = parseTextServices(name, data)
	}
	if err == nil && len(targets) == 0 {
		err = fmt.Errorf("%s: no services listed", name)
	}
	return targets, err
}

var yamlKeyLine = regexp.MustCompile(`^(-|[A-Za-z_][A-Za-z0-9_]*:(\s|$))`)

func isYAMLServices(name string, data []byte) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || line == "---" {
			continue
		}
		return yamlKeyLine.MatchString(line)
	}
	return false
}

func parseTextServices(name string, data []byte) ([]Target, error) {
	var targets []Target
	for i, line := range strings.Split(string(data), "\n") {
		if cut := strings.Index(line, " #"); cut >= 0 {
			line = line[:cut]
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return nil, fmt.Errorf("%s:%d: want one URL per line", name, i+1)
		}
		target, err := ParseTarget(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		targets = append(targets, target)
	}
	return targets, nil
}

// yamlLinePrefix matches the position yaml.v3 puts in its error messages.
var yamlLinePrefix = regexp.MustCompile(`^yaml: line (\d+): `)

func parseYAMLServices(name string, data []byte) ([]Target, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		if m := yamlLinePrefix.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s: %s", name, m[1], msg[len(m[0]):])
		}
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(msg, "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	list, lineErr := serviceList(doc.Content[0])
	if lineErr != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, lineErr.line, lineErr.err)
	}
	targets := make([]Target, 0, len(list.Content))
	for _, item := range list.Content {
		target, err := serviceItem(item)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, err.line, err.err)
		}
		targets = append(targets, target)
	}
	return targets, nil
}

// serviceList finds the sequence of services: the document itself or its services key.
func serviceList(root *yaml.Node) (*yaml.Node, *lineError) {
	if root.Kind == yaml.MappingNode {
		var list *yaml.Node
		for i := 0; i+1 < len(root.Content); i += 2 {
			key := root.Content[i]
			if key.Value != "services" {
				return nil, atLine(key, "unknown key %q (want services)", key.Value)
			}
			list = root.Content[i+1]
		}
		if list == nil {
			return nil, atLine(root, "empty map (want services)")
		}
		root = list
	}
	if root.Kind != yaml.SequenceNode {
		return nil, atLine(root, "want a list of services")
	}
	return root, nil
}

// lineError is an error at a line of a services file.
type lineError struct {
	line int
	err  error
}

func atLine(node *yaml.Node, format string, args ...any) *lineError {
	return &lineError{line: node.Line, err: fmt.Errorf(format, args...)}
}

// serviceItem turns one list item, a string or a map, into a Target.
func serviceItem(item *yaml.Node) (Target, *lineError) {
	if item.Kind == yaml.ScalarNode {
		target, err := ParseTarget(item.Value)
		if err != nil {
			return Target{}, &lineError{line: item.Line, err: err}
		}
		return target, nil
	}
	if item.Kind != yaml.MappingNode {
		return Target{}, atLine(item, "want a URL, a hostname or a map")
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		key, value := item.Content[i], item.Content[i+1]
		if !serviceKeys[key.Value] {
			return Target{}, atLine(key, "unknown key %q", key.Value)
		}
		if _, dup := fields[key.Value]; dup {
			return Target{}, atLine(key, "key %q given twice", key.Value)
		}
		if value.Kind != yaml.ScalarNode {
			return Target{}, atLine(value, "%s: want a single value", key.Value)
		}
		fields[key.Value] = value
	}
	return serviceFromFields(item, fields)
}

var serviceKeys = map[string]bool{
	"url": true, "host": true, "path": true, "method": true, "expect": true,
	"timeout": true, "name": true,
}

func serviceFromFields(item *yaml.Node, fields map[string]*yaml.Node) (Target, *lineError) {
	target, lineErr := serviceURL(item, fields)
	if lineErr != nil {
		return Target{}, lineErr
	}
	if node := fields["name"]; node != nil {
		target.Name = node.Value
	}
	if node := fields["method"]; node != nil {
		if !methodPattern.MatchString(node.Value) {
			return Target{}, atLine(node, "method %q is not an HTTP method", node.Value)
		}
		target.Method = strings.ToUpper(node.Value)
	}
	if node := fields["expect"]; node != nil {
		status, err := strconv.Atoi(node.Value)
		if err != nil || status < 100 || status > 599 {
			return Target{}, atLine(node, "expect %q is not an HTTP status", node.Value)
		}
		target.ExpectStatus = status
	}
	if node := fields["timeout"]; node != nil {
		timeout, err := time.ParseDuration(node.Value)
		if err != nil || timeout <= 0 {
			return Target{}, atLine(node, "timeout %q: want a duration such as 5s", node.Value)
		}
		target.Timeout = timeout
	}
	return target, nil
}

var methodPattern = regexp.MustCompile(`^[A-Za-z]+$`)

// serviceURL builds the target from url, or from host and path.
func serviceURL(item *yaml.Node, fields map[string]*yaml.Node) (Target, *lineError) {
	urlNode, hostNode, pathNode := fields["url"], fields["host"], fields["path"]
	switch {
	case urlNode != nil && hostNode != nil:
		return Target{}, atLine(hostNode, "give url or host, not both")
	case urlNode == nil && hostNode == nil:
		return Target{}, atLine(item, "a service needs url or host")
	case urlNode != nil && pathNode != nil:
		return Target{}, atLine(pathNode, "path goes with host; put it in the url")
	case urlNode != nil:
		target, err := ParseTarget(urlNode.Value)
		if err != nil {
			return Target{}, &lineError{line: urlNode.Line, err: err}
		}
		return target, nil
	}
	host := hostNode.Value
	if strings.ContainsAny(host, "/:") && !isHostPort(host) {
		return Target{}, atLine(hostNode, "host %q: give a hostname; use url for a URL", host)
	}
	arg := host
	if pathNode != nil {
		if !strings.HasPrefix(pathNode.Value, "/") {
			return Target{}, atLine(pathNode, "path %q must start with /", pathNode.Value)
		}
		arg += pathNode.Value
	}
	target, err := ParseTarget(arg)
	if err != nil {
		return Target{}, &lineError{line: hostNode.Line, err: err}
	}
	return target, nil
}

// isHostPort reports whether host is "name:port" with a numeric port.
func isHostPort(host string) bool {
	name, port, found := strings.Cut(host, ":")
	_, err := strconv.Atoi(port)
	return found && name != "" && err == nil && !strings.Contains(name, "/")
}
