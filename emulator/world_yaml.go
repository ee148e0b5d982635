package emulator

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// worldError is a problem with one field of a world. It prints as one line:
// "world.yaml:12: applications[2].origin: unknown origin ...".
type worldError struct {
	file string
	line int
	path fieldPath
	msg  string
}

func (e *worldError) Error() string {
	var b strings.Builder
	b.WriteString(e.file)
	if e.file == "" {
		b.WriteString("world")
	}
	if e.line > 0 {
		fmt.Fprintf(&b, ":%d", e.line)
	}
	if len(e.path) > 0 {
		b.WriteString(": " + e.path.String())
	}
	b.WriteString(": " + e.msg)
	return b.String()
}

// fieldPath names a field of a world, as YAML keys (string) and list indexes (int).
type fieldPath []any

func (p fieldPath) String() string {
	var b strings.Builder
	for i, elem := range p {
		switch v := elem.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// with returns a copy of p with more elements, so sibling paths never share an array.
func (p fieldPath) with(elems ...any) fieldPath {
	out := make(fieldPath, 0, len(p)+len(elems))
	return append(append(out, p...), elems...)
}

func problemAt(path fieldPath, format string, args ...any) *worldError {
	return &worldError{path: path, msg: fmt.Sprintf(format, args...)}
}

// locate adds the file name and, when the world came from YAML, the line of the field.
func (w *World) locate(err error) error {
	var we *worldError
	if !errors.As(err, &we) {
		return err
	}
	we.file = w.file
	if we.line == 0 && w.root != nil && len(w.root.Content) > 0 {
		we.line = lineOf(w.root.Content[0], we.path)
	}
	return we
}

// lineOf returns the line of the deepest node along path: for a key, the line of the key,
// which for a list or mapping value is where it is named.
func lineOf(node *yaml.Node, path fieldPath) int {
	line := node.Line
	for _, elem := range path {
		node = resolveAlias(node)
		var next *yaml.Node
		nextLine := 0
		switch key := elem.(type) {
		case int:
			if node.Kind == yaml.SequenceNode && key < len(node.Content) {
				next = node.Content[key]
				nextLine = next.Line
			}
		case string:
			if keyNode, value := mappingEntry(node, key); value != nil {
				next, nextLine = value, keyNode.Line
			}
		}
		if next == nil {
			return line
		}
		node, line = next, nextLine
	}
	return line
}

func mappingEntry(node *yaml.Node, key string) (keyNode, value *yaml.Node) {
	if node.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i], node.Content[i+1]
		}
	}
	return nil, nil
}

func resolveAlias(node *yaml.Node) *yaml.Node {
	for node.Kind == yaml.AliasNode && node.Alias != nil {
		node = node.Alias
	}
	return node
}

var (
	worldType         = reflect.TypeFor[World]()
	secretType        = reflect.TypeFor[Secret]()
	durationType      = reflect.TypeFor[time.Duration]()
	unmarshalerType   = reflect.TypeFor[yaml.Unmarshaler]()
	fieldsCheckedType = reflect.TypeFor[interface{ yamlFieldsChecked() }]()
)

// checkKnownFields walks node alongside type t and reports the first key that t has no
// field for, or the first value of the wrong kind, with its path and line. The decoder's
// own KnownFields check names neither the path nor, inside custom unmarshalers, anything.
func checkKnownFields(node *yaml.Node, t reflect.Type, path fieldPath) error {
	node = resolveAlias(node)
	if node.ShortTag() == "!!null" {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == secretType:
		return wantKind(node, path, yaml.ScalarNode, "a string")
	case t == durationType:
		if _, err := time.ParseDuration(node.Value); node.Kind != yaml.ScalarNode || err != nil {
			return locatedProblem(node, path, "want a duration such as 200ms, got %s",
				describeNode(node))
		}
		return nil
	case reflect.PointerTo(t).Implements(unmarshalerType):
		if !reflect.PointerTo(t).Implements(fieldsCheckedType) || node.Kind != yaml.MappingNode {
			return nil
		}
	}
	switch t.Kind() {
	case reflect.Struct:
		return checkStruct(node, t, path)
	case reflect.Slice:
		return checkSlice(node, t, path)
	case reflect.String:
		return wantKind(node, path, yaml.ScalarNode, "a string")
	case reflect.Int, reflect.Int64:
		return wantTag(node, path, "!!int", "an integer")
	case reflect.Bool:
		return wantTag(node, path, "!!bool", "true or false")
	}
	return nil
}

func checkStruct(node *yaml.Node, t reflect.Type, path fieldPath) error {
	if err := wantKind(node, path, yaml.MappingNode, "a mapping"); err != nil {
		return err
	}
	fields := yamlFields(t)
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		if key.Value == "<<" {
			continue
		}
		field, ok := fields[key.Value]
		if !ok {
			return locatedProblem(key, path, "unknown field %q", key.Value)
		}
		if err := checkKnownFields(value, field, path.with(key.Value)); err != nil {
			return err
		}
	}
	return nil
}

func checkSlice(node *yaml.Node, t reflect.Type, path fieldPath) error {
	if err := wantKind(node, path, yaml.SequenceNode, "a list"); err != nil {
		return err
	}
	for i, item := range node.Content {
		if err := checkKnownFields(item, t.Elem(), path.with(i)); err != nil {
			return err
		}
	}
	return nil
}

// yamlFields maps the YAML keys of struct t, inline fields included, to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case !f.IsExported() || name == "-":
			continue
		case strings.Contains(opts, "inline"):
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
			continue
		case name == "":
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

func wantKind(node *yaml.Node, path fieldPath, kind yaml.Kind, what string) error {
	if node.Kind == kind {
		return nil
	}
	return locatedProblem(node, path, "want %s, got %s", what, describeNode(node))
}

func wantTag(node *yaml.Node, path fieldPath, tag, what string) error {
	if node.Kind == yaml.ScalarNode && node.ShortTag() == tag {
		return nil
	}
	return locatedProblem(node, path, "want %s, got %s", what, describeNode(node))
}

// locatedProblem is a problem with the value at node.
func locatedProblem(node *yaml.Node, path fieldPath, format string, args ...any) *worldError {
	err := problemAt(path, format, args...)
	err.line = node.Line
	return err
}

func describeNode(node *yaml.Node) string {
	switch node.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(node.Value)
}

var yamlLinePrefix = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// syntaxError turns a YAML parse error into "<file>:<line>: <problem>".
func syntaxError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLinePrefix.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return &worldError{file: file, line: line, msg: msg}
}

// decodeError reports the first problem the decoder found, which checkKnownFields did not.
func (w *World) decodeError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return syntaxError(w.file, errors.New(te.Errors[0]))
	}
	return syntaxError(w.file, err)
}
